// tabtwin's side of `tabtwin bench browser`: the built site's own worker (static/js/worker.js, its
// downloads and the staged wasm: the committed build, or --wasm), spoken to through the site's protocol
// module as /chat speaks to it. Times are the worker's DONE figures (tokens, first_token_s, decode_tok_s).
import * as msg from "/static/js/protocol.js";
import { resolveEntry } from "/static/js/downloads.js";
import { failWith, publish, seconds, settings } from "./common.js";

publish(async () => {
  const { config, id, generations, maxTokens } = await settings();
  const registryUrl = new URL("/models.json", location.href);
  const entry = (await (await fetch(registryUrl)).json()).models.find((m) => m.id === id);
  const model = resolveEntry(entry, registryUrl);
  const wasm = {
    js: new URL(config.tabtwin.wasm.js, location.href).href,
    bin: new URL(config.tabtwin.wasm.bin, location.href).href,
  };
  const worker = msg.connect(new Worker("/static/js/worker.js", { type: "module" }), ({ message }) => failWith(message));
  const request = (type, payload, last, handlers = {}) => new Promise((resolve, reject) => worker.send(
    type, payload, { ...handlers, [last]: resolve, [msg.ERROR]: ({ message }) => reject(new Error(message)) }));

  const ready = await request(msg.LOAD, { model, wasm }, msg.READY);
  const result = { ready_s: seconds(), cached: ready.cached, simd128: ready.simd128, generations: [] };
  const options = { max_tokens: maxTokens, temperature: 0, repeat_penalty: 1 };
  for (let i = 0; i < generations; i++) {
    worker.send(msg.RESET);  // a fresh conversation: the whole prompt is processed every time
    let text = "";
    const onEvent = ({ event }) => { if (event.kind === "text") text += event.text; };
    const sent = performance.now();
    const done = await request(msg.GENERATE, { prompt: config.prompt, options }, msg.DONE, { [msg.EVENT]: onEvent });
    result.generations.push({
      tokens: done.tokens,
      first_token_s: done.first_token_s,
      decode_tok_s: done.decode_tok_s,
      seconds: done.seconds,
      reason: done.reason,
      first_token_at_s: done.first_token_s === null ? null : seconds(sent) + done.first_token_s,
      text,
    });
  }
  return result;
});
