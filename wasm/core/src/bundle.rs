//! A loaded chat model: the network, its tokenizer, its chat template, the tokens
//! that end a turn, and the facts read from its header. Everything here comes from
//! the GGUF file; nothing changes while a conversation runs.

use serde::Serialize;

use crate::arch;
use crate::error::{Error, Result};
use crate::gguf::{self, GgufFile};
use crate::keys;
use crate::models::CausalLm;
use crate::options::GenerateOptions;
use crate::refusal::Refusals;
use crate::template::{self, ChatTemplate, Message};
use crate::tokenizer::TextTokenizer;

/// Facts about the loaded model, read from its header.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub architecture: String,
    pub name: Option<String>,
    pub context_length: usize,
    pub vocab_size: usize,
    pub embedded_system_prompt: Option<String>,
    pub persona: Option<String>,
    /// The raw `tabtwin.tools` JSON array, if the file has one.
    pub tools: Option<String>,
    /// The raw `tabtwin.refusals` JSON array, if the file has one (`refusal.rs`).
    pub refusals: Option<String>,
    /// What a reply is generated with when the caller overrides nothing: the core's
    /// defaults with the file's recommended sampling (`general.sampling.*`) applied.
    pub sampling: GenerateOptions,
}

pub struct Bundle {
    pub model: Box<dyn CausalLm>,
    pub tokenizer: TextTokenizer,
    pub template: ChatTemplate,
    pub info: ModelInfo,
    /// The openings of the refusals the twin was trained to give (none without `tabtwin.refusals`).
    pub refusals: Refusals,
    /// Ids of the tokens that end an assistant turn (the known end-of-turn tokens and eos).
    stop_ids: Vec<u32>,
}

impl Bundle {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let file = GgufFile::parse(bytes)?;
        let architecture = arch::detect(&file)?.name.to_string();
        let tokenizer = TextTokenizer::from_gguf(&file)?;
        let bos_id = file.opt_u32(gguf::BOS_TOKEN_ID)?;
        let eos_id = file.opt_u32(gguf::EOS_TOKEN_ID)?;
        let token_at = |id: Option<u32>| id.and_then(|id| tokenizer.id_to_token(id)).unwrap_or_default();
        let (bos, eos) = (token_at(bos_id), token_at(eos_id));
        // a base without a template of its own gets its architecture's known one (template::KNOWN)
        let template_src = match file.opt_string(gguf::CHAT_TEMPLATE)? {
            Some(source) => source,
            None => template::known(&architecture).ok_or_else(|| {
                Error::Template(format!(
                    "the file has no {}; tabtwin needs the model's own chat format",
                    gguf::CHAT_TEMPLATE
                ))
            })?,
        };
        let template = ChatTemplate::new(template_src, bos, eos)?;
        let info = ModelInfo {
            context_length: file.u32(&gguf::context_length_key(&architecture))? as usize,
            vocab_size: file.strings(gguf::TOKENS)?.len(),
            name: file.opt_string(gguf::NAME)?.map(str::to_string),
            embedded_system_prompt: file.opt_string(keys::SYSTEM_PROMPT)?.map(str::to_string),
            persona: file.opt_string(keys::PERSONA)?.map(str::to_string),
            tools: checked_tools(file.opt_string(keys::TOOLS)?)?,
            refusals: file.opt_string(keys::REFUSALS)?.map(str::to_string),
            sampling: GenerateOptions::recommended_by(&file)?,
            architecture,
        };
        let refusals = Refusals::from_metadata(info.refusals.as_deref())?;
        let model = arch::load(file)?;
        Ok(Self::new(model, tokenizer, template, info, eos_id).with_refusals(refusals))
    }

    /// A bundle from parts already built (the loader above, or a test's fake model).
    pub fn new(
        model: Box<dyn CausalLm>,
        tokenizer: TextTokenizer,
        template: ChatTemplate,
        info: ModelInfo,
        eos_id: Option<u32>,
    ) -> Self {
        let mut stop_ids: Vec<u32> = keys::END_OF_TURN_TOKENS.iter().filter_map(|t| tokenizer.token_to_id(t)).collect();
        stop_ids.extend(eos_id);
        Self { model, tokenizer, template, info, refusals: Refusals::default(), stop_ids }
    }

    pub fn with_refusals(self, refusals: Refusals) -> Self {
        Self { refusals, ..self }
    }

    pub fn is_end_of_turn(&self, token: u32) -> bool {
        self.stop_ids.contains(&token)
    }

    /// The prompt text the template renders for `conversation`, after `system` (if any).
    pub fn render(&self, system: Option<&str>, conversation: &[Message]) -> Result<String> {
        let mut messages = Vec::with_capacity(conversation.len() + 1);
        if let Some(system) = system {
            messages.push(Message::new("system", system));
        }
        messages.extend_from_slice(conversation);
        self.template.render(&messages)
    }

    /// The apps a TOOL line may open: the file's `tabtwin.tools` list, else any. A list that does
    /// not parse (only a bundle built by hand can hold one) allows none: a bad list never widens.
    pub fn allowed_apps(&self) -> Option<Vec<String>> {
        let tools = self.info.tools.as_deref()?;
        Some(serde_json::from_str::<Vec<String>>(tools).unwrap_or_default())
    }
}

/// `tabtwin.tools` as the file holds it, refused unless it is a JSON list of app names: read as
/// "no list" it would let the twin open every app.
pub(crate) fn checked_tools(raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    match serde_json::from_str::<Vec<String>>(raw) {
        Ok(_) => Ok(Some(raw.to_string())),
        Err(e) => Err(Error::Metadata {
            key: keys::TOOLS.to_string(),
            problem: format!("expected a JSON list of app names like [\"projects\"], found {raw:?} ({e})"),
        }),
    }
}
