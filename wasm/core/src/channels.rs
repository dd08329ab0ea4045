//! Splitting the model's text into what the page shows and what it acts on.
//!
//! - `text`: the answer, shown as text.
//! - `thinking`: between `<think>` and `</think>`, shown collapsed.
//! - `tool`: a line `TOOL {"app": ..., "params": {...}}` becomes a structured event
//!   and is never shown as text. A line a small model garbled (cut short, a quote
//!   missing) still opens the app it names, if the twin may open it, without params;
//!   one that names no app it may open is dropped: raw JSON means nothing to a visitor.
//! - A reply whose words all went into its thinking (a `<think>` never closed, or
//!   nothing after it) shows that thinking as its answer, so an answer never vanishes.
//!
//! Text arrives in arbitrary pieces, so a tag or a `TOOL ` prefix may be split
//! across pieces: we hold back exactly the characters that could still become one.

use serde::Serialize;
use serde_json::Value;

use crate::keys::{THINK_CLOSE, THINK_OPEN, TOOL_PREFIX};

/// One piece of a reply. Serialized for the bindings as
/// `{"kind": "text", "text": ...}`, `{"kind": "thinking", "text": ...}` or
/// `{"kind": "tool", "app": ..., "params": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Text { text: String },
    Thinking { text: String },
    Tool { app: String, params: Value },
}

impl Event {
    pub fn text(text: impl Into<String>) -> Self {
        Event::Text { text: text.into() }
    }

    pub fn thinking(text: impl Into<String>) -> Self {
        Event::Thinking { text: text.into() }
    }
}

/// The events a whole reply streams as (what the page would show and open), at once.
pub fn parse_reply(text: &str, allowed_apps: Option<Vec<String>>) -> Vec<Event> {
    let mut parser = ChannelParser::new(allowed_apps);
    let mut events = parser.push(text);
    events.extend(parser.finish());
    merge(events)
}

/// What a visitor reads of a whole reply: its text, without a think block or TOOL line.
pub fn visible_text(text: &str, allowed_apps: Option<Vec<String>>) -> String {
    parse_reply(text, allowed_apps)
        .iter()
        .filter_map(|e| if let Event::Text { text } = e { Some(text.as_str()) } else { None })
        .collect()
}

#[derive(Debug, Default)]
pub struct ChannelParser {
    /// Apps a TOOL line may open; `None` accepts any app name.
    allowed_apps: Option<Vec<String>>,
    pending: String,
    in_thinking: bool,
    at_line_start: bool,
    in_tool_line: bool,
    /// Just closed a thought: newlines before the answer are layout, not content.
    after_thought: bool,
    /// What the reply thought, and whether it has shown any text or opened an app yet.
    thought: String,
    answered: bool,
}

impl ChannelParser {
    pub fn new(allowed_apps: Option<Vec<String>>) -> Self {
        Self { allowed_apps, at_line_start: true, ..Default::default() }
    }

    /// Feed a piece of model text; returns the events that are now certain.
    pub fn push(&mut self, piece: &str) -> Vec<Event> {
        self.pending.push_str(piece);
        let mut events = Vec::new();
        loop {
            let before = (self.pending.len(), self.in_tool_line, self.in_thinking);
            self.advance(&mut events, false);
            if (self.pending.len(), self.in_tool_line, self.in_thinking) == before {
                break;
            }
        }
        self.note(&events);
        merge(events)
    }

    /// The reply is over: everything still held is decided now. A reply that only thought
    /// answers with its thought.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while !self.pending.is_empty() {
            self.advance(&mut events, true);
        }
        self.note(&events);
        if !self.answered && !self.thought.trim().is_empty() {
            events.push(Event::text(self.thought.trim()));
            self.answered = true;
        }
        merge(events)
    }

    /// Keep what `events` thought, and whether they answered.
    fn note(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::Thinking { text } => self.thought.push_str(text),
                Event::Text { text } if !text.trim().is_empty() => self.answered = true,
                Event::Tool { .. } => self.answered = true,
                Event::Text { .. } => {}
            }
        }
    }

    fn advance(&mut self, events: &mut Vec<Event>, at_end: bool) {
        if self.in_tool_line {
            return self.advance_tool_line(events, at_end);
        }
        if self.in_thinking {
            match self.pending.find(THINK_CLOSE) {
                Some(i) => {
                    let thought: String = self.pending.drain(..i + THINK_CLOSE.len()).collect();
                    events.push(Event::thinking(&thought[..i]));
                    self.in_thinking = false;
                    self.after_thought = true;
                    self.at_line_start = true;
                }
                None => {
                    let keep = if at_end { 0 } else { partial_suffix(&self.pending, THINK_CLOSE) };
                    let thought: String = self.pending.drain(..self.pending.len() - keep).collect();
                    if !thought.is_empty() {
                        events.push(Event::thinking(thought));
                    }
                }
            }
            return;
        }
        if self.after_thought {
            let trimmed = self.pending.trim_start_matches('\n').len();
            self.pending.drain(..self.pending.len() - trimmed);
            if self.pending.is_empty() {
                return;
            }
            self.after_thought = false;
        }
        if self.at_line_start && !self.pending.is_empty() {
            if self.pending.starts_with(TOOL_PREFIX) {
                self.in_tool_line = true;
                return;
            }
            if TOOL_PREFIX.starts_with(self.pending.as_str()) && !at_end {
                return; // could still become "TOOL "
            }
        }
        // Plain text up to the next place something special could begin.
        let think_at = self.pending.find(THINK_OPEN);
        let newline_at = self.pending.find('\n');
        let stop = match (think_at, newline_at) {
            (Some(t), Some(n)) => t.min(n + 1),
            (Some(t), None) => t,
            (None, Some(n)) => n + 1,
            (None, None) => {
                let keep = if at_end { 0 } else { partial_suffix(&self.pending, THINK_OPEN) };
                self.pending.len() - keep
            }
        };
        let text: String = self.pending.drain(..stop).collect();
        if !text.is_empty() {
            self.at_line_start = text.ends_with('\n');
            events.push(Event::text(text));
        }
        if think_at == Some(stop) && self.pending.starts_with(THINK_OPEN) {
            self.pending.drain(..THINK_OPEN.len());
            self.in_thinking = true;
        }
    }

    fn advance_tool_line(&mut self, events: &mut Vec<Event>, at_end: bool) {
        let Some(end) = self.pending.find('\n').or(if at_end { Some(self.pending.len()) } else { None }) else {
            return; // wait for the rest of the line
        };
        let line: String = self.pending.drain(..end).collect();
        self.pending.drain(..self.pending.len().min(1)); // the line's end goes with it
        self.in_tool_line = false;
        self.at_line_start = true;
        if let Some(event) = self.parse_tool(&line).or_else(|| self.recover_tool(&line)) {
            events.push(event);
        }
    }

    /// The app a garbled TOOL line names, opened without params: the first app the twin may open
    /// that the line quotes (`"projects"`), or, with no list, the quoted value after `"app"`.
    fn recover_tool(&self, line: &str) -> Option<Event> {
        let app = match &self.allowed_apps {
            Some(allowed) => allowed.iter().find(|a| line.contains(&format!("\"{a}\"")))?.clone(),
            None => {
                let after = &line[line.find("\"app\"")? + 5..];
                let start = after.find('"')? + 1;
                let len = after[start..].find('"')?;
                after[start..start + len].to_string()
            }
        };
        (!app.is_empty()).then(|| Event::Tool { app, params: serde_json::json!({}) })
    }

    fn parse_tool(&self, line: &str) -> Option<Event> {
        let json: Value = serde_json::from_str(line[TOOL_PREFIX.len()..].trim()).ok()?;
        let app = json.get("app")?.as_str()?.to_string();
        let params = json.get("params").cloned().unwrap_or_else(|| serde_json::json!({}));
        if !params.is_object() {
            return None;
        }
        if let Some(allowed) = &self.allowed_apps {
            if !allowed.iter().any(|a| a == &app) {
                return None;
            }
        }
        Some(Event::Tool { app, params })
    }
}

/// Length of the longest suffix of `text` that is a proper prefix of `tag`.
fn partial_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| text.len() >= n && text.is_char_boundary(text.len() - n) && tag.starts_with(&text[text.len() - n..]))
        .unwrap_or(0)
}

/// Adjacent events of the same text channel become one.
fn merge(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        match (out.last_mut(), event) {
            (Some(Event::Text { text: a }), Event::Text { text: b }) => a.push_str(&b),
            (Some(Event::Thinking { text: a }), Event::Thinking { text: b }) => a.push_str(&b),
            (_, event) => out.push(event),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&str], allowed: Option<Vec<&str>>) -> Vec<Event> {
        let mut p = ChannelParser::new(allowed.map(|a| a.into_iter().map(String::from).collect()));
        let mut events = Vec::new();
        for piece in pieces {
            events.extend(p.push(piece));
        }
        events.extend(p.finish());
        merge(events)
    }

    fn every_split(text: &str) -> Vec<Vec<String>> {
        let chars: Vec<char> = text.chars().collect();
        (1..chars.len()).map(|i| vec![chars[..i].iter().collect(), chars[i..].iter().collect()]).collect()
    }

    #[test]
    fn plain_text_passes_through() {
        assert_eq!(run(&["Hello ", "world"], None), vec![Event::text("Hello world")]);
    }

    #[test]
    fn tool_line_becomes_an_event() {
        let text = "Here are my projects.\nTOOL {\"app\":\"projects\",\"params\":{\"tag\":\"rust\"}}";
        let expected = vec![
            Event::text("Here are my projects.\n"),
            Event::Tool { app: "projects".into(), params: serde_json::json!({"tag": "rust"}) },
        ];
        for split in every_split(text) {
            let pieces: Vec<&str> = split.iter().map(String::as_str).collect();
            assert_eq!(run(&pieces, Some(vec!["projects", "books"])), expected, "split {split:?}");
        }
    }

    #[test]
    fn thinking_is_its_own_channel() {
        let text = "<think>they ask about books</think>\nI read a lot.";
        let expected = vec![Event::thinking("they ask about books"), Event::text("I read a lot.")];
        for split in every_split(text) {
            let pieces: Vec<&str> = split.iter().map(String::as_str).collect();
            assert_eq!(run(&pieces, None), expected, "split {split:?}");
        }
    }

    #[test]
    fn tool_line_in_one_piece_is_decided_without_waiting() {
        let mut p = ChannelParser::new(None);
        let events = p.push("TOOL {\"app\":\"books\"}\n");
        assert_eq!(events, vec![Event::Tool { app: "books".into(), params: serde_json::json!({}) }]);
    }

    #[test]
    fn a_bad_or_forbidden_tool_line_is_never_shown_raw() {
        assert_eq!(run(&["TOOL {not json}"], None), vec![]);
        let line = "TOOL {\"app\":\"bank\",\"params\":{}}";
        assert_eq!(run(&[line], Some(vec!["projects"])), vec![]);
        assert_eq!(run(&["Sure.\n", line, "\nBye"], Some(vec!["projects"])), vec![Event::text("Sure.\nBye")]);
    }

    #[test]
    fn a_garbled_tool_line_still_opens_the_app_it_names_without_params() {
        let cut = "TOOL {\"app\": \"projects\", \"params\": {\"tag\": \"ru";
        let opened = vec![Event::Tool { app: "projects".into(), params: serde_json::json!({}) }];
        assert_eq!(run(&[cut], Some(vec!["books", "projects"])), opened);
        assert_eq!(run(&[cut], None), opened);
        assert_eq!(run(&["TOOL {\"app\": \"bank\", \"par"], Some(vec!["projects"])), vec![]);
    }

    #[test]
    fn a_reply_that_only_thought_answers_with_its_thought() {
        assert_eq!(
            run(&["<think>I live in Majorna.", "</think>\n"], None),
            vec![Event::thinking("I live in Majorna."), Event::text("I live in Majorna.")]
        );
        assert_eq!(
            run(&["<think>Majorna, ", "I think"], None),
            vec![Event::thinking("Majorna, I think"), Event::text("Majorna, I think")]
        );
        let answered = run(&["<think>hm</think>\nMajorna."], None);
        assert_eq!(answered, vec![Event::thinking("hm"), Event::text("Majorna.")], "an answer after it stays alone");
    }

    #[test]
    fn words_that_start_like_tool_are_text() {
        assert_eq!(run(&["TO", "OLS are useful"], None), vec![Event::text("TOOLS are useful")]);
        assert_eq!(run(&["a <thin", "g>"], None), vec![Event::text("a <thing>")]);
    }

    #[test]
    fn events_serialize_with_their_kind() {
        let events = parse_reply("<think>hm</think>\nHi.\nTOOL {\"app\":\"books\"}", None);
        assert_eq!(
            serde_json::to_value(&events).unwrap(),
            serde_json::json!([
                {"kind": "thinking", "text": "hm"},
                {"kind": "text", "text": "Hi.\n"},
                {"kind": "tool", "app": "books", "params": {}},
            ])
        );
    }

    #[test]
    fn multibyte_text_near_tags_is_safe() {
        assert_eq!(run(&["café <", "3 ✨"], None), vec![Event::text("café <3 ✨")]);
    }

    /// Random replies built from the pieces that matter (tags, the TOOL prefix, JSON, newlines,
    /// multi-byte characters), cut into random pieces: never a panic, and always the events of
    /// the whole reply parsed at once. A fixed xorshift sequence: a failure names its iteration.
    #[test]
    fn any_reply_split_anywhere_gives_the_same_events() {
        const ATOMS: [&str; 16] = [
            "TOOL ",
            "TOO",
            "L",
            " ",
            "\n",
            "<think>",
            "</think>",
            "<th",
            "ink>",
            "{\"app\":\"projects\",\"params\":{}}",
            "{\"app\":\"nope\"}",
            "{",
            "}",
            "é",
            "🙂",
            "Hi",
        ];
        let mut rng = crate::test_rng::Rng(0x0051_eed5_u64);
        let mut next = move |n: usize| rng.below(n);
        for iteration in crate::test_rng::fuzz_iterations(20_000) {
            let reply: String = (0..1 + next(12)).map(|_| ATOMS[next(ATOMS.len())]).collect();
            let chars: Vec<char> = reply.chars().collect();
            let mut cuts: Vec<usize> = (0..next(5)).map(|_| next(chars.len() + 1)).collect();
            cuts.sort();
            let mut pieces = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([chars.len()]) {
                pieces.push(chars[from..cut.max(from)].iter().collect::<String>());
                from = cut.max(from);
            }
            let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
            let allowed = if iteration % 2 == 0 { Some(vec!["projects"]) } else { None };
            let whole = run(&[reply.as_str()], allowed.clone());
            assert_eq!(run(&refs, allowed), whole, "iteration {iteration}: {pieces:?}");
        }
    }
}
