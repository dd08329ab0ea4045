//! What a reply is generated with, and where each value comes from, in this order:
//! the core's defaults (greedy, 256 tokens), then the model's recommendation in its
//! GGUF (gguf-py's standard `general.sampling.*` keys), then the caller's explicit
//! overrides. The bindings pass overrides only; no binding or page types a default.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contrast::Contrast;
use crate::error::{Error, Result};
use crate::gguf::{self, GgufFile};
use crate::grounding::answerable::Verdict;
use crate::sampler::SamplingOptions;

/// Everything one reply is generated with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateOptions {
    /// The most tokens the reply may have (the end-of-turn token not counted).
    pub max_tokens: usize,
    #[serde(flatten)]
    pub sampling: SamplingOptions,
    /// The core's judgement of this turn's notes (`grounding::answerable`): `refuse` gives one of
    /// the twin's trained refusals, `answer` keeps a refusal from opening the reply. Per turn, from
    /// the grounding of its question; never a model's default.
    #[serde(skip)]
    pub verdict: Option<Verdict>,
    /// A name or number nothing told the model may not begin (`support::may_continue`). Per turn.
    #[serde(skip)]
    pub told_only: bool,
    /// Decode against the question without its notes (`contrast.rs`). Per turn.
    #[serde(skip)]
    pub contrast: Option<Contrast>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self { max_tokens: 256, sampling: SamplingOptions::default(), verdict: None, told_only: false, contrast: None }
    }
}

/// The caller's explicit choices; `None` leaves the model's default in place.
/// The names are the snake_case ones of models.toml's `[model.sampling]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub max_tokens: Option<usize>,
    pub temperature: Option<f32>,
    pub top_k: Option<usize>,
    pub top_p: Option<f32>,
    pub repeat_penalty: Option<f32>,
    pub repeat_last_n: Option<usize>,
    pub seed: Option<u64>,
    /// What `Grounding::ground` decided for this turn (its `options`).
    pub verdict: Option<Verdict>,
    pub told_only: Option<bool>,
    pub contrast: Option<Contrast>,
}

impl Overrides {
    /// Overrides from a JSON object (`{"temperature": 0.7, ...}`); empty text or `null`
    /// means none. An unknown or ill-typed key is an error that names it.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value = match text.trim() {
            "" => return Ok(Self::default()),
            text => serde_json::from_str(text)
                .map_err(|e| Error::Invalid(format!("generation options are not valid JSON: {e}")))?,
        };
        let fields = match value {
            Value::Null => return Ok(Self::default()),
            Value::Object(fields) => fields,
            other => return Err(Error::Invalid(format!("generation options must be a JSON object, not {other}"))),
        };
        // One key at a time, so that the error names the key at fault.
        for (key, value) in &fields {
            let single = Value::Object([(key.clone(), value.clone())].into_iter().collect());
            serde_json::from_value::<Self>(single)
                .map_err(|e| Error::Invalid(format!("generation option '{key}': {e}")))?;
        }
        serde_json::from_value(Value::Object(fields)).map_err(|e| Error::Invalid(format!("generation options: {e}")))
    }
}

impl GenerateOptions {
    /// The core's defaults with the file's recommended sampling applied (keys that are
    /// absent keep the default; a key with the wrong type or an impossible value is an error).
    pub fn recommended_by(file: &GgufFile) -> Result<Self> {
        let mut options = Self::default();
        let sampling = &mut options.sampling;
        if let Some(temperature) = file.opt_f32(gguf::SAMPLING_TEMP)? {
            sampling.temperature = temperature;
        }
        if let Some(top_k) = file.opt_count(gguf::SAMPLING_TOP_K)? {
            sampling.top_k = top_k as usize;
        }
        if let Some(top_p) = file.opt_f32(gguf::SAMPLING_TOP_P)? {
            sampling.top_p = top_p;
        }
        if let Some(penalty) = file.opt_f32(gguf::SAMPLING_PENALTY_REPEAT)? {
            sampling.repeat_penalty = penalty;
        }
        options.check().map_err(|(field, problem)| {
            let key = match field {
                "temperature" => gguf::SAMPLING_TEMP,
                "top_p" => gguf::SAMPLING_TOP_P,
                _ => gguf::SAMPLING_PENALTY_REPEAT,
            };
            Error::Metadata { key: key.to_string(), problem }
        })?;
        Ok(options)
    }

    /// These options with the caller's explicit choices applied.
    pub fn with(&self, overrides: &Overrides) -> Result<Self> {
        let mut options = self.clone();
        let sampling = &mut options.sampling;
        options.max_tokens = overrides.max_tokens.unwrap_or(options.max_tokens);
        sampling.temperature = overrides.temperature.unwrap_or(sampling.temperature);
        sampling.top_k = overrides.top_k.unwrap_or(sampling.top_k);
        sampling.top_p = overrides.top_p.unwrap_or(sampling.top_p);
        sampling.repeat_penalty = overrides.repeat_penalty.unwrap_or(sampling.repeat_penalty);
        sampling.repeat_last_n = overrides.repeat_last_n.unwrap_or(sampling.repeat_last_n);
        sampling.seed = overrides.seed.unwrap_or(sampling.seed);
        options.verdict = overrides.verdict.or(options.verdict);
        options.told_only = overrides.told_only.unwrap_or(options.told_only);
        options.contrast = overrides.contrast.clone().or(options.contrast.take());
        options
            .check()
            .map_err(|(field, problem)| Error::Invalid(format!("generation option '{field}': {problem}")))?;
        if let Some(contrast) = &options.contrast {
            contrast.check()?;
        }
        Ok(options)
    }

    /// The first field whose value no sampler can use, and why.
    fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        let s = &self.sampling;
        if self.max_tokens == 0 {
            return Err(("max_tokens", "must be at least 1".into()));
        }
        if !(s.temperature >= 0.0 && s.temperature.is_finite()) {
            return Err(("temperature", format!("{} is not a temperature (0 = greedy, or above)", s.temperature)));
        }
        if !(0.0..=1.0).contains(&s.top_p) {
            return Err(("top_p", format!("{} is outside 0..=1", s.top_p)));
        }
        if !(s.repeat_penalty > 0.0 && s.repeat_penalty.is_finite()) {
            return Err(("repeat_penalty", format!("{} is not a penalty (1 = none)", s.repeat_penalty)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use candle_core::quantized::gguf_file::{Content, Value as GgufValue, VersionedMagic};

    use super::*;

    fn file_with(metadata: &[(&str, GgufValue)]) -> GgufFile {
        let metadata: HashMap<String, GgufValue> = metadata.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let content =
            Content { magic: VersionedMagic::GgufV3, metadata, tensor_infos: HashMap::new(), tensor_data_offset: 0 };
        GgufFile { content, bytes: Vec::new() }
    }

    #[test]
    fn a_file_without_a_recommendation_gets_the_core_defaults() {
        assert_eq!(GenerateOptions::recommended_by(&file_with(&[])).unwrap(), GenerateOptions::default());
    }

    #[test]
    fn the_files_recommendation_replaces_the_defaults_and_overrides_replace_both() {
        let file = file_with(&[
            (gguf::SAMPLING_TEMP, GgufValue::F32(0.7)),
            (gguf::SAMPLING_TOP_K, GgufValue::I32(40)),
            (gguf::SAMPLING_TOP_P, GgufValue::F32(0.9)),
            (gguf::SAMPLING_PENALTY_REPEAT, GgufValue::F32(1.1)),
        ]);
        let recommended = GenerateOptions::recommended_by(&file).unwrap();
        let s = &recommended.sampling;
        assert_eq!((s.temperature, s.top_k, s.top_p, s.repeat_penalty), (0.7, 40, 0.9, 1.1));
        assert_eq!(recommended.max_tokens, 256);
        let overrides = Overrides::from_json(r#"{"temperature": 0, "max_tokens": 12, "seed": 3}"#).unwrap();
        let effective = recommended.with(&overrides).unwrap();
        assert_eq!((effective.sampling.temperature, effective.max_tokens, effective.sampling.seed), (0.0, 12, 3));
        assert_eq!(effective.sampling.top_k, 40, "keys the caller did not give keep the file's value");
    }

    #[test]
    fn a_recommendation_of_the_wrong_type_names_its_key() {
        let err = GenerateOptions::recommended_by(&file_with(&[(gguf::SAMPLING_TOP_K, GgufValue::F32(4.0))]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(gguf::SAMPLING_TOP_K), "{err}");
        let err = GenerateOptions::recommended_by(&file_with(&[(gguf::SAMPLING_TEMP, GgufValue::F32(-1.0))]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(gguf::SAMPLING_TEMP), "{err}");
    }

    #[test]
    fn unknown_or_ill_typed_overrides_name_the_key() {
        let err = Overrides::from_json(r#"{"temperature": 0.5, "temprature": 1}"#).unwrap_err().to_string();
        assert!(err.contains("temprature"), "{err}");
        let err = Overrides::from_json(r#"{"top_k": "many"}"#).unwrap_err().to_string();
        assert!(err.contains("top_k"), "{err}");
        let err = GenerateOptions::default().with(&Overrides { top_p: Some(2.0), ..Default::default() });
        assert!(err.unwrap_err().to_string().contains("top_p"));
    }

    #[test]
    fn a_turns_verdict_and_told_only_arrive_as_overrides() {
        let overrides = Overrides::from_json(r#"{"verdict": "refuse", "told_only": true}"#).unwrap();
        let effective = GenerateOptions::default().with(&overrides).unwrap();
        assert_eq!((effective.verdict, effective.told_only), (Some(Verdict::Refuse), true));
        let err = Overrides::from_json(r#"{"verdict": "maybe"}"#).unwrap_err().to_string();
        assert!(err.contains("verdict"), "{err}");
        let contrast = Overrides::from_json(r#"{"contrast": {"alpha": 0.5, "without": "Where?"}}"#).unwrap();
        let effective = GenerateOptions::default().with(&contrast).unwrap();
        assert_eq!(effective.contrast, Some(Contrast::new("Where?")));
        for bad in [r#"{"contrast": {"alpha": 0, "without": "q"}}"#, r#"{"contrast": {"alpha": 0.5}}"#] {
            let err = Overrides::from_json(bad).and_then(|o| GenerateOptions::default().with(&o)).unwrap_err();
            assert!(err.to_string().contains("contrast"), "{bad}: {err}");
        }
    }

    #[test]
    fn no_overrides_is_empty_text_null_or_an_empty_object() {
        for text in ["", "null", "{}", " { } "] {
            assert_eq!(Overrides::from_json(text).unwrap(), Overrides::default(), "{text:?}");
        }
    }

    #[test]
    fn the_options_serialize_flat_with_snake_case_names() {
        let json = serde_json::to_value(GenerateOptions::default()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        for key in ["max_tokens", "temperature", "top_k", "top_p", "repeat_penalty", "repeat_last_n", "seed"] {
            assert!(keys.contains(&key), "{key} missing from {json}");
        }
        assert!(
            !keys.contains(&"verdict") && !keys.contains(&"told_only") && !keys.contains(&"contrast"),
            "per-turn choices are not a model's defaults"
        );
    }
}
