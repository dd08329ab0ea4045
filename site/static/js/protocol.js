// The messages between the page and the inference worker, written down once.
// Both sides import this module; nothing else defines a message type.

// page -> worker
export const LOAD = "load";          // {model: ModelEntry}  fetch (or read cached), verify, build the core
export const GENERATE = "generate";  // {prompt, options}    stream a reply
export const STOP = "stop";          // {}                   end the reply now
export const RESET = "reset";        // {}                   forget the conversation
export const LOAD_VOICE = "load_voice";  // {voice: ModelEntry, wasm}  fetch/verify/cache Whisper
export const TRANSCRIBE = "transcribe";  // {samples: Float32Array}    16 kHz mono speech

// worker -> page
export const PROGRESS = "progress";  // {loaded, total, phase}
export const READY = "ready";        // {info, simd128, cached}
export const TOKEN = "token";        // {text}              answer text, to show as text
export const THINKING = "thinking";  // {text}              inner monologue, shown collapsed
export const TOOL = "tool";          // {app, params}       open an inline app
export const DONE = "done";          // {reason, tokens, seconds}
export const VOICE_PROGRESS = "voice_progress";  // {loaded, total, phase}
export const VOICE_READY = "voice_ready";        // {}
export const TRANSCRIPT = "transcript";          // {text, nothing_heard, audio_seconds, seconds}
export const ERROR = "error";        // {message, during}
