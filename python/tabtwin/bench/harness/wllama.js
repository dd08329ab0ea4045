// wllama's side of `tabtwin bench browser`: the pinned npm package (served from the cache), one thread,
// no WebGPU, the prompt text tabtwin's core renders (the same tokens: the benchmark checks the count
// wllama reports), greedy, no repeat penalty, no prompt cache between generations. Tokens come from wllama's stream: its chunks time
// the first and last token, its final usage counts them.
import { publish, seconds, settings } from "./common.js";

const quiet = { debug() {}, log() {}, info() {}, warn: console.warn, error: console.error };

publish(async () => {
  const { config, model, generations, maxTokens } = await settings();
  const { Wllama } = await import(config.wllama.entry);
  const wllama = new Wllama({ default: config.wllama.wasm }, { logger: quiet, suppressNativeLog: true });
  await wllama.loadModelFromUrl(new URL(model.gguf, location.href).href, {
    n_threads: 1,
    n_gpu_layers: 0,
    n_ctx: config.context,
    n_parallel: 1,
  });
  const result = {
    ready_s: seconds(),
    multithread: wllama.isMultithread(),
    threads: wllama.getNumThreads(),
    generations: [],
  };
  for (let i = 0; i < generations; i++) {
    let first = null;
    let last = null;
    let pieces = 0;
    let text = "";
    let final = null;
    const sent = performance.now();
    await wllama.createCompletion({
      prompt: model.prompt_text,
      max_tokens: maxTokens,
      temperature: 0,
      repeat_penalty: 1,
      cache_prompt: false,
      stream: true,
      onData: (chunk) => {
        const piece = chunk.choices?.[0]?.text ?? "";
        if (piece) {
          last = performance.now();
          first ??= last;
          pieces += 1;
          text += piece;
        }
        final = chunk;
      },
    });
    const tokens = final?.usage?.completion_tokens ?? final?.timings?.predicted_n ?? pieces;
    result.generations.push({
      tokens,
      pieces,
      first_token_s: first === null ? null : (first - sent) / 1000,
      decode_tok_s: tokens > 1 && last > first ? (tokens - 1) / ((last - first) / 1000) : null,
      seconds: (performance.now() - sent) / 1000,
      reason: final?.choices?.[0]?.finish_reason ?? null,
      first_token_at_s: first === null ? null : seconds(first),
      prompt_tokens: final?.usage?.prompt_tokens ?? final?.timings?.prompt_n ?? null,
      timings: final?.timings ?? null,
      text,
    });
  }
  return result;
});
