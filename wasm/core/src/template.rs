//! The model's own chat template (`tokenizer.chat_template`), rendered with
//! minijinja the way transformers renders it with jinja2: trim_blocks and
//! lstrip_blocks on, Python string methods available, `raise_exception` defined.

use minijinja::syntax::SyntaxConfig;
use minijinja::{context, Environment, Error as JinjaError, ErrorKind, Value};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How many template instructions one render may run. A real chat template spends a few thousand on
/// a long conversation; a file whose template loops (nested `range`s) stops here, in well under a
/// second, with a sentence instead of a hung tab.
const TEMPLATE_FUEL: u64 = 2_000_000;

/// The chat format of an architecture whose base files ship without `tokenizer.chat_template`
/// (the pretrained Gemma 3 270M GGUF has none), used only when the file has none: the one source
/// for the core and training (which reads it from the file's facts, `facts.rs`
/// `fallback_chat_template`). Gemma 3's own template (google/gemma-3-*-it `tokenizer_config.json`): the
/// system prompt opens the first user turn; turns are `<start_of_turn>user|model` ... `<end_of_turn>`.
pub const KNOWN: &[(&str, &str)] = &[("gemma3", GEMMA3)];

const GEMMA3: &str = r#"{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"#;

/// The known chat template of `architecture` (`KNOWN`), if it has one.
pub fn known(architecture: &str) -> Option<&'static str> {
    KNOWN.iter().find(|(arch, _)| *arch == architecture).map(|(_, source)| *source)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Self { role: role.to_string(), content: content.to_string() }
    }
}

pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    pub fn new(source: &str, bos_token: String, eos_token: String) -> Result<Self> {
        let mut env = Environment::new();
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .map_err(|e| Error::Template(e.to_string()))?,
        );
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.add_function("raise_exception", |msg: String| -> std::result::Result<String, JinjaError> {
            Err(JinjaError::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| Error::Template(format!("cannot parse tokenizer.chat_template: {e}")))?;
        Ok(Self { env, bos_token, eos_token })
    }

    /// The prompt for `messages`, ending with the assistant header so the model answers next.
    pub fn render(&self, messages: &[Message]) -> Result<String> {
        let template = self.env.get_template("chat").map_err(|e| Error::Template(e.to_string()))?;
        template
            .render(context! {
                messages => messages
                    .iter()
                    .map(|m| context! { role => &m.role, content => &m.content })
                    .collect::<Vec<Value>>(),
                add_generation_prompt => true,
                bos_token => &self.bos_token,
                eos_token => &self.eos_token,
            })
            .map_err(|e| match e.kind() {
                ErrorKind::OutOfFuel => Error::Template(format!(
                    "tokenizer.chat_template ran past {TEMPLATE_FUEL} steps without finishing (a loop?)"
                )),
                _ => Error::Template(format!("rendering failed: {e}")),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String> {
        ChatTemplate::new(source, String::new(), String::new())?.render(&[Message::new("user", "hi")])
    }

    #[test]
    fn a_template_that_loops_stops_with_a_sentence() {
        let err = render("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ran past") && err.contains("a loop?"), "{err}");
    }

    #[test]
    fn a_long_conversation_fits_the_fuel() {
        let chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}";
        let template = ChatTemplate::new(chatml, String::new(), String::new()).unwrap();
        let turns: Vec<Message> =
            (0..2000).map(|i| Message::new(if i % 2 == 0 { "user" } else { "assistant" }, "words")).collect();
        assert!(template.render(&turns).is_ok());
    }

    #[test]
    fn gemma3_has_its_own_turns_with_the_system_prompt_in_the_first() {
        let template = ChatTemplate::new(known("gemma3").unwrap(), "<bos>".into(), "<eos>".into()).unwrap();
        let text = template
            .render(&[
                Message::new("system", "Be brief."),
                Message::new("user", " hi "),
                Message::new("assistant", "hello"),
            ])
            .unwrap();
        assert_eq!(
            text,
            "<bos><start_of_turn>user\nBe brief.\n\nhi<end_of_turn>\n<start_of_turn>model\nhello<end_of_turn>\n\
             <start_of_turn>model\n"
        );
        assert!(known("llama").is_none());
    }

    #[test]
    fn a_template_that_raises_says_so() {
        let err = render("{{ raise_exception('roles must alternate') }}").unwrap_err().to_string();
        assert!(err.contains("roles must alternate"), "{err}");
    }
}
