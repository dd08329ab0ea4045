use super::*;

fn index() -> Grounding {
    let json = r#"{"format":1,"passages":[
      {"id":"about/home","source":"about","title":"About","url":"about/#home","text":"I live in Majorna, an old working-class district of Gothenburg, with my cat Mercator."},
      {"id":"projects/tidewater","source":"projects","title":"Project: tidewater","url":"projects/#tidewater","text":"tidewater prints tide tables for Swedish harbours from open data. Written in Rust."},
      {"id":"musings/slack-water","source":"musings","title":"Musing: Slack water","url":"musings/slack-water/","text":"Slack water is the still moment between tides when sailing a Folkboat gets easy."},
      {"id":"qa/born","source":"qa","title":"Q&A","url":"","text":"Q: Where were you born? A: In Uppsala, in 1991."}
    ]}"#;
    Grounding::from_json(json.as_bytes()).unwrap()
}

#[test]
fn a_name_finds_its_passage_first() {
    let g = index();
    let hits = g.search("whats ur cat called, is it Mercator?", &LIMITS, &[]).unwrap();
    assert_eq!(g.passages()[hits[0].passage].id, "about/home");
    let hits = g.search("which tool prints tide tables?", &LIMITS, &[]).unwrap();
    assert_eq!(g.passages()[hits[0].passage].id, "projects/tidewater");
}

#[test]
fn stems_meet_across_forms() {
    assert_eq!(lexical::terms("maps baking tables"), lexical::terms("map bake table"));
    assert_eq!(lexical::terms("What is your cat?"), vec!["cat".to_string()]);
}

#[test]
fn an_off_map_question_gets_no_passages() {
    let g = index();
    assert!(g.search("What is your blood type?", &LIMITS, &[]).unwrap().is_empty());
    let grounded = g.ground("What is your blood type?", &LIMITS).unwrap();
    assert!(grounded.sources.is_empty());
    assert_eq!(grounded.text, "What is your blood type?", "no passages: the turn is the question unchanged");
}

#[test]
fn scores_are_between_zero_and_one_and_sorted() {
    let g = index();
    let ranked = g.rank("tide tables in Rust").unwrap();
    assert_eq!(ranked.len(), 4);
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(ranked.iter().all(|h| (0.0..=1.0).contains(&h.score)), "{ranked:?}");
}

#[test]
fn top_k_and_the_budget_bound_a_turn() {
    let g = index();
    let wide = Limits { top_k: 4, min_score: 0.0, budget_chars: 10_000 };
    assert_eq!(g.search("tides sailing Majorna Uppsala", &wide, &[]).unwrap().len(), 4);
    let one = Limits { top_k: 4, min_score: 0.0, budget_chars: 10 };
    assert_eq!(g.search("tides sailing Majorna Uppsala", &one, &[]).unwrap().len(), 1, "the best passage always fits");
    let two = Limits { top_k: 2, ..wide };
    assert_eq!(g.search("tides sailing Majorna Uppsala", &two, &[]).unwrap().len(), 2);
}

#[test]
fn the_rendered_turn_is_the_fixed_block_then_the_question() {
    let g = index();
    let Grounded { text, sources, decision, options } = g.ground("Where were you born?", &LIMITS).unwrap();
    assert_eq!(sources[0].id, "qa/born");
    assert_eq!((sources[0].title.as_str(), sources[0].url.as_str()), ("Q&A", ""));
    let expected =
        format!("{HEADER}\n[Q&A] Q: Where were you born? A: In Uppsala, in 1991.\n", HEADER = render::HEADER);
    assert!(text.starts_with(&expected), "{text}");
    assert!(text.ends_with("\n\nWhere were you born?"), "{text}");
    assert!(decision.is_none() && options.is_empty(), "an index without methods decides nothing");
}

#[test]
fn a_bad_index_is_refused_with_its_reason() {
    let err = |json: &str| Grounding::from_json(json.as_bytes()).err().expect("must fail").to_string();
    assert!(err("not json").contains("not valid JSON"));
    assert!(err(r#"{"format":2,"passages":[]}"#).contains("format 2"));
    assert!(err(r#"{"format":1,"passages":[{"id":"a","source":"qa","title":"t","url":"","text":" "}]}"#)
        .contains("empty id or text"));
    assert!(err(r#"{"format":1,"passages":[],"extra":1}"#).contains("extra"));
}

#[test]
fn limits_are_overridden_and_checked() {
    let wide = LIMITS.with(&LimitOverrides::from_json(r#"{"top_k": 5}"#).unwrap()).unwrap();
    assert_eq!((wide.top_k, wide.min_score, wide.budget_chars), (5, LIMITS.min_score, LIMITS.budget_chars));
    assert!(LIMITS.with(&LimitOverrides { min_score: Some(1.5), ..Default::default() }).is_err());
    assert!(LIMITS.with(&LimitOverrides { top_k: Some(0), ..Default::default() }).is_err());
    let err = LimitOverrides::from_json(r#"{"topk": 5}"#).unwrap_err().to_string();
    assert!(err.contains("topk"), "{err}");
}

#[test]
fn vectors_are_checked_against_the_embedder_record() {
    let passage = |vector: &str| {
        format!(
            r#"{{"format":1,"embedder":{{"name":"m","sha256":"ab","dim":2}},"passages":[{{"id":"a","source":"qa","title":"t","url":"","text":"x"{vector}}}]}}"#
        )
    };
    let err = |json: String| Grounding::from_json(json.as_bytes()).err().expect("must fail").to_string();
    assert!(err(passage("")).contains("has no vector"));
    assert!(err(passage(r#","vector":"!!""#)).contains("not base64"));
    assert!(err(passage(r#","vector":"AAAAAAAA""#)).contains("has 3 values, the embedder gives 2"));
    // 1.0 and 0.0 as little-endian f16: 00 3c 00 00
    let mut g = Grounding::from_json(passage(r#","vector":"ADwAAA==""#).as_bytes()).unwrap();
    assert!(!g.semantic());
    let refused = g.attach_embedder(b"not the model".to_vec()).unwrap_err().to_string();
    assert!(refused.contains("not the m the index was built with"), "{refused}");
    let mut plain = index();
    assert!(plain.attach_embedder(Vec::new()).unwrap_err().to_string().contains("no passage vectors"));
}

#[test]
fn excluded_passages_are_left_out_and_the_next_ones_come_in() {
    let g = index();
    let wide = Limits { top_k: 2, min_score: 0.0, budget_chars: 10_000 };
    let all = g.search("Where were you born? In Uppsala?", &wide, &[]).unwrap();
    let first = g.passages()[all[0].passage].id.clone();
    assert_eq!(first, "qa/born");
    let rest = g.ground_without("Where were you born? In Uppsala?", &wide, std::slice::from_ref(&first)).unwrap();
    assert!(rest.sources.iter().all(|s| s.id != first) && rest.sources.len() == 2);
}

#[test]
fn a_follow_up_is_matched_with_the_question_before_it() {
    assert_eq!(query("what's its name?", Some("Do you have a cat?")), "Do you have a cat? what's its name?");
    assert_eq!(query("and there?", Some("Where do you sail?")), "Where do you sail? and there?");
    let own = "Which tool prints tide tables for harbours?";
    assert_eq!(query(own, Some("Do you have a cat?")), own, "a question that stands alone is matched alone");
    assert_eq!(query("what's its name?", None), "what's its name?");
    let g = index();
    let alone = g.ground_following("what's its name?", None, &LIMITS).unwrap();
    let after = g.ground_following("what's its name?", Some("Do you have a cat?"), &LIMITS).unwrap();
    assert!(alone.sources.first().is_none_or(|s| s.id != "about/home"));
    assert_eq!(after.sources[0].id, "about/home");
    assert!(after.text.ends_with("\n\nwhat's its name?"), "the notes go before the question as asked");
}

fn with_methods(model: &str, told_only: bool) -> Grounding {
    let json = format!(
        r#"{{"format":1,"answerability":{model},"told_only":{told_only},"passages":[
      {{"id":"about/home","source":"about","title":"About","url":"about/","text":"I live in Majorna with my cat Mercator."}}]}}"#
    );
    Grounding::from_json(json.as_bytes()).unwrap()
}

/// A model that answers when the question's words are all in the notes and refuses otherwise.
const COVERAGE_MODEL: &str = r#"{"features":["score","cosine","sentence","coverage","unknown","type_ok","terms"],
  "mean":[0,0,0,0,0,0,0],"scale":[1,1,1,1,1,1,1],"weights":[0,0,0,10,0,0,0],"bias":-7,
  "refuse_below":0.2,"answer_above":0.9}"#;

#[test]
fn the_index_s_model_decides_each_grounded_turn_and_says_how_to_generate() {
    let g = with_methods(COVERAGE_MODEL, true);
    let known = g.ground("Where do you live, in Majorna?", &LIMITS).unwrap();
    let d = known.decision.unwrap();
    assert_eq!(d.verdict, answerable::Verdict::Answer, "{d:?}");
    assert_eq!(known.options["verdict"], "answer");
    assert_eq!(known.options["told_only"], true);
    let breed = g.ground("What breed is your cat Mercator, a Siamese?", &LIMITS).unwrap();
    assert_eq!(breed.decision.unwrap().verdict, answerable::Verdict::Refuse);
    let general = g.ground("What is a cat?", &LIMITS).unwrap();
    assert!(!general.sources.is_empty());
    assert!(!general.options.contains_key("told_only"), "not about the twin's person: it may name what it knows");
    let off_map = g.ground("What is your blood type?", &LIMITS).unwrap();
    assert!(off_map.sources.is_empty());
    let d = off_map.decision.unwrap();
    assert_eq!((d.verdict, d.by), (answerable::Verdict::Refuse, DecidedBy::NoNotes), "no notes hold a fact asked");
    assert_eq!(off_map.options["told_only"], true, "held to what it was told without notes too");
    let small_talk = g.ground("How are you today?", &LIMITS).unwrap();
    assert!(small_talk.sources.is_empty() && small_talk.decision.is_none(), "small talk is not refused");
    let who = g.ground("Who am I talking to?", &LIMITS).unwrap();
    assert_eq!(who.decision.unwrap().by, DecidedBy::Identity);
    assert_eq!(who.options["verdict"], "answer", "who the twin is is never refused");
    let plain = with_methods(COVERAGE_MODEL, false);
    assert!(plain.ground("What is a cat?", &LIMITS).unwrap().options.get("told_only").is_none());
    assert!(index().ground("Where do you live?", &LIMITS).unwrap().options.is_empty(), "no methods in the index");
}

#[test]
fn a_model_that_does_not_read_this_core_s_features_is_refused_on_load() {
    let bad = COVERAGE_MODEL.replace("\"terms\"]", "\"length\"]");
    let json = format!(
        r#"{{"format":1,"answerability":{bad},"passages":[{{"id":"a","source":"qa","title":"Q&A","url":"","text":"x"}}]}}"#
    );
    let err = Grounding::from_json(json.as_bytes()).err().unwrap().to_string();
    assert!(err.contains("fit it again"), "{err}");
}

#[test]
fn nearest_puts_the_best_passage_last_in_the_same_format() {
    let mut g = index();
    let all = Limits { min_score: 0.0, ..LIMITS };
    let first = g.ground("Do you have a cat?", &all).unwrap();
    g.set_nearest(true);
    let last = g.ground("Do you have a cat?", &all).unwrap();
    assert_eq!(first.sources, last.sources, "the same passages, best first in the sources");
    let lines = |t: &str| t.lines().map(String::from).collect::<Vec<_>>();
    let (a, b) = (lines(&first.text), lines(&last.text));
    let n = first.sources.len();
    assert!(n >= 2, "{first:?}");
    assert_eq!(a[0], b[0], "one header");
    let mut reversed = a[1..=n].to_vec();
    reversed.reverse();
    assert_eq!(reversed, b[1..=n].to_vec());
    assert_eq!(a[n + 1..], b[n + 1..], "the question as before");
}

#[test]
fn contrast_decodes_a_turn_with_notes_against_its_bare_question_unless_it_is_refused() {
    let mut g = with_methods(COVERAGE_MODEL, false);
    assert!(!g.ground("Where do you live, in Majorna?", &LIMITS).unwrap().options.contains_key("contrast"));
    g.set_contrast(true);
    let known = g.ground("Where do you live, in Majorna?", &LIMITS).unwrap();
    let rule: crate::contrast::Contrast = serde_json::from_value(known.options["contrast"].clone()).unwrap();
    assert_eq!(rule, crate::contrast::Contrast::new("Where do you live, in Majorna?"), "without notes: as asked");
    let breed = g.ground("What breed is your cat Mercator, a Siamese?", &LIMITS).unwrap();
    assert_eq!(breed.options["verdict"], "refuse");
    assert!(!breed.options.contains_key("contrast"), "a refusal decided already has no reply to contrast");
    let small_talk = g.ground("How are you today?", &LIMITS).unwrap();
    assert!(small_talk.sources.is_empty() && !small_talk.options.contains_key("contrast"), "no notes, no contrast");
    let json =
        br#"{"format":1,"contrast":true,"passages":[{"id":"a","source":"qa","title":"Q&A","url":"","text":"x"}]}"#;
    assert!(Grounding::from_json(json).unwrap().contrast(), "[grounding] contrast reaches the index");
}
