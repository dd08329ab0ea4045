//! Which system message a conversation starts with. A twin's file carries the
//! prompt it was trained with, and any other one degrades it, so replacing that
//! one takes an explicit `force`.

use crate::error::{Error, Result};
use crate::keys;

pub struct SystemPrompt {
    /// The file's `tabtwin.system_prompt`, if it has one.
    embedded: Option<String>,
    current: Option<String>,
}

impl SystemPrompt {
    pub fn new(embedded: Option<String>) -> Self {
        Self { current: embedded.clone(), embedded }
    }

    pub fn get(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// Use `prompt` (or none). Refused, unless `force`, when the file carries a different one.
    pub fn set(&mut self, prompt: Option<String>, force: bool) -> Result<()> {
        if let Some(embedded) = &self.embedded {
            if !force && prompt.as_deref() != Some(embedded.as_str()) {
                return Err(Error::Invalid(format!(
                    "this model carries its training system prompt ({}); \
                     replacing it degrades the twin, so it needs an explicit override",
                    keys::SYSTEM_PROMPT
                )));
            }
        }
        self.current = prompt;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_without_an_embedded_prompt_takes_any() {
        let mut prompt = SystemPrompt::new(None);
        prompt.set(Some("Be brief.".into()), false).unwrap();
        assert_eq!(prompt.get(), Some("Be brief."));
    }

    #[test]
    fn an_embedded_prompt_is_replaced_only_by_force() {
        let mut prompt = SystemPrompt::new(Some("You are Ada.".into()));
        assert_eq!(prompt.get(), Some("You are Ada."));
        let err = prompt.set(Some("You are Bob.".into()), false).unwrap_err().to_string();
        assert!(err.contains(keys::SYSTEM_PROMPT), "{err}");
        prompt.set(Some("You are Ada.".into()), false).unwrap();
        prompt.set(None, true).unwrap();
        assert_eq!(prompt.get(), None);
    }
}
