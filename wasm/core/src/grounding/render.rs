//! The one format in which passages reach the model: a block in the user turn, before the
//! question. Training (`tabtwin data build`, through the Python binding) and the page render
//! with this function, so the twin sees in the tab the bytes it was trained on.

use super::index::Passage;

/// The block's first line: tells the model (and a reader of a transcript) what follows.
pub const HEADER: &str = "Notes from my own pages (they may not answer the question):";

/// `user` as the model sees it with `passages`: unchanged when there are none.
pub fn render_turn(user: &str, passages: &[&Passage]) -> String {
    if passages.is_empty() {
        return user.to_string();
    }
    let mut out = String::from(HEADER);
    out.push('\n');
    for p in passages {
        out.push_str(&format!("[{}] {}\n", p.title, one_line(&p.text)));
    }
    out.push('\n');
    out.push_str(user);
    out
}

/// `render_turn` with the passages best last, nearest the question, where a small model reads
/// best what it read last ([grounding] nearest; the twin was trained best first).
pub fn render_nearest(user: &str, passages: &[&Passage]) -> String {
    let reversed: Vec<&Passage> = passages.iter().rev().copied().collect();
    render_turn(user, &reversed)
}

/// A passage on one line: its own line breaks would read as the block's structure.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
