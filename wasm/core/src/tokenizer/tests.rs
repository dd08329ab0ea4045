//! The SentencePiece tokenizer on a tiny synthetic Gemma-like vocabulary: hand-checked cases, and
//! a fuzz against the reference it must equal (the `tokenizers` BPE built from the merges
//! transformers derives, with the same normalizer, added tokens and decoder).

use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::replace::Replace;
use tokenizers::{AddedToken, DecoderWrapper, Tokenizer};

use super::*;
use crate::stream::TextStream;

const NORMAL: i32 = 1;
const CONTROL: i32 = 3;
const USER: i32 = 4;
const BYTE: i32 = 6;

/// Gemma's layout in miniature: specials, user-defined whitespace runs (spaces stored as spaces),
/// byte tokens, then pieces whose order is the merge order (their scores say otherwise).
fn vocab() -> Vec<(String, i32)> {
    let mut v: Vec<(String, i32)> = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
        .iter()
        .map(|t| (t.to_string(), CONTROL))
        .collect();
    for t in ["\n", "\n\n", "  ", "   ", "<b>"] {
        v.push((t.to_string(), USER));
    }
    v.extend((0..=255u8).map(|b| (format!("<0x{b:02X}>"), BYTE)));
    let pieces = [
        "▁", "a", "b", "c", "d", "é", "e", "h", "l", "o", "▁a", "bc", "ab", "abc", "▁ab", "cd", "ll", "he", "hell",
        "hello", "▁hello", "lo", "ol", "▁▁", "aa", "aaa", "<", ">", "<b",
    ];
    v.extend(pieces.iter().map(|t| (t.to_string(), NORMAL)));
    v
}

fn tiny() -> TextTokenizer {
    let v = vocab();
    let tokens: Vec<&str> = v.iter().map(|(t, _)| t.as_str()).collect();
    let types: Vec<i32> = v.iter().map(|(_, t)| *t).collect();
    TextTokenizer::sentencepiece(&tokens, &types).unwrap()
}

fn pieces(t: &TextTokenizer, text: &str) -> Vec<String> {
    t.encode(text).unwrap().into_iter().map(|id| t.id_to_token(id).unwrap()).collect()
}

/// transformers' `generate_merges(vocab, {token: -position})`: every split into two tokens, by
/// the token's position, then the longer left part.
fn derived_merges(tokens: &[String]) -> Vec<(String, String)> {
    let known: std::collections::HashSet<&str> = tokens.iter().map(String::as_str).collect();
    let mut merges = Vec::new();
    for token in tokens {
        let cuts: Vec<usize> = token.char_indices().map(|(i, _)| i).skip(1).collect();
        for &cut in cuts.iter().rev() {
            let (l, r) = token.split_at(cut);
            if known.contains(l) && known.contains(r) {
                merges.push((l.to_string(), r.to_string()));
            }
        }
    }
    merges
}

/// The reference: transformers' GemmaTokenizer over the same vocabulary, in `tokenizers`.
fn reference() -> Tokenizer {
    let v = vocab();
    let tokens: Vec<String> = v.iter().map(|(t, _)| spm_respelled(t)).collect();
    let ids: tokenizers::models::bpe::Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let bpe = BPE::builder()
        .vocab_and_merges(ids, derived_merges(&tokens))
        .byte_fallback(true)
        .fuse_unk(true)
        .unk_token("<unk>".into())
        .build()
        .unwrap();
    let mut t = Tokenizer::new(bpe);
    t.with_normalizer(Some(Replace::new(" ", "▁").unwrap()));
    let decoder: Vec<DecoderWrapper> =
        vec![Replace::new("▁", " ").unwrap().into(), ByteFallback::new().into(), Fuse::new().into()];
    t.with_decoder(Some(DecoderSequence::new(decoder)));
    let control: Vec<AddedToken> =
        v.iter().filter(|(_, ty)| *ty == CONTROL).map(|(s, _)| AddedToken::from(s.clone(), true)).collect();
    t.add_special_tokens(&control);
    let user: Vec<AddedToken> = v
        .iter()
        .filter(|(s, ty)| *ty == USER && tokens.contains(s))
        .map(|(s, _)| AddedToken::from(s.clone(), false).normalized(false))
        .collect();
    t.add_tokens(&user);
    t
}

fn spm_respelled(token: &str) -> String {
    if token.contains(' ') && token.chars().all(char::is_whitespace) {
        "▁".repeat(token.chars().count())
    } else {
        token.to_string()
    }
}

#[test]
fn merges_follow_the_order_of_the_vocabulary_not_the_scores() {
    let t = tiny();
    // "bc" comes before "ab": a+bc wins although "ab" could merge first from the left
    assert_eq!(pieces(&t, "abc"), ["abc"]);
    assert_eq!(pieces(&t, "abd"), ["ab", "d"]);
    assert_eq!(pieces(&t, "bcd"), ["bc", "d"]); // "bc" before "cd"
    assert_eq!(pieces(&t, "hello"), ["hello"]);
}

#[test]
fn spaces_are_pieces_and_no_space_is_prefixed() {
    let t = tiny();
    assert_eq!(pieces(&t, "a hello"), ["a", "▁hello"]);
    assert_eq!(pieces(&t, " a"), ["▁a"]);
    // a run of spaces is the respelled "▁▁" token, not the user-defined "  " matched whole
    assert_eq!(pieces(&t, "a  b"), ["a", "▁▁", "b"]);
    assert_eq!(t.decode(&t.encode("  a   b ").unwrap()).unwrap(), "  a   b ");
    // a "▁" typed in the text is a space to the vocabulary, as transformers reads it
    assert_eq!(pieces(&t, "▁▁ "), ["▁▁▁"]);
}

#[test]
fn control_and_user_defined_tokens_are_matched_whole_longest_first() {
    let t = tiny();
    assert_eq!(
        pieces(&t, "<start_of_turn>a\n\nb<end_of_turn>\n"),
        ["<start_of_turn>", "a", "\n\n", "b", "<end_of_turn>", "\n"]
    );
    assert_eq!(pieces(&t, "<b>a<b"), ["<b>", "a", "<b"]);
}

#[test]
fn characters_outside_the_vocabulary_fall_back_to_bytes_and_decode_back() {
    let t = tiny();
    assert_eq!(pieces(&t, "é€"), ["é", "<0xE2>", "<0x82>", "<0xAC>"]);
    for text in ["€uro 🙂 x", "日本語", "a\u{301}", "tab\there", ""] {
        assert_eq!(t.decode(&t.encode(text).unwrap()).unwrap(), text);
    }
    // a lone byte of a character is no character: U+FFFD, as tokenizers' ByteFallback writes it
    let euro = t.encode("€").unwrap();
    assert_eq!(t.decode(&euro[..2]).unwrap(), "\u{FFFD}\u{FFFD}");
}

#[test]
fn byte_tokens_stream_as_whole_characters() {
    let t = tiny();
    let ids = t.encode("a🙂b€ hello").unwrap();
    let mut stream = TextStream::default();
    let mut shown = Vec::new();
    for end in 1..=ids.len() {
        shown.push(stream.push(&t, &ids[..end]).unwrap());
    }
    shown.push(stream.flush());
    assert!(shown.iter().all(|piece| !piece.contains('\u{FFFD}')), "{shown:?}");
    assert_eq!(shown.concat(), "a🙂b€ hello");
}

/// Random text over the vocabulary's pieces, specials and characters it lacks: ids and decoded
/// text equal the reference's, and decoding gives the text back.
#[test]
fn ids_equal_the_reference_bpe_on_random_text() {
    let t = tiny();
    let reference = reference();
    let parts = [
        "▁",
        "▁▁",
        "a",
        "b",
        "c",
        "d",
        "e",
        "h",
        "l",
        "o",
        "é",
        " ",
        "  ",
        "\n",
        "\n\n",
        "<",
        ">",
        "<b>",
        "<bos>",
        "<end_of_turn>",
        "€",
        "🙂",
        "z",
        "\t",
        "hello",
        "abc",
        "aaa",
    ];
    let mut rng = crate::test_rng::Rng(0x5eed_5e9e_u64);
    for iteration in crate::test_rng::fuzz_iterations(3_000) {
        let text: String = (0..rng.below(12)).map(|_| parts[rng.below(parts.len())]).collect();
        let ids = t.encode(&text).unwrap();
        let expected = reference.encode(text.as_str(), false).unwrap().get_ids().to_vec();
        assert_eq!(ids, expected, "iteration {iteration}: {text:?}");
        assert_eq!(t.decode(&ids).unwrap(), reference.decode(&ids, false).unwrap(), "{text:?}");
        assert_eq!(t.decode(&ids).unwrap(), text.replace('▁', " "));
    }
}

#[test]
fn a_sentencepiece_vocabulary_without_unk_is_refused() {
    let err = TextTokenizer::sentencepiece(&["a"], &[NORMAL]).err().unwrap().to_string();
    assert!(err.contains("<unk>"), "{err}");
}
