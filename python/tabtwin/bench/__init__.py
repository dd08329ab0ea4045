"""`tabtwin bench`: measurements of speed and memory, printed as tables and written as JSON. Timings are
measurements, never test assertions.

  decode     `tabtwin bench` (= `bench native`): the core natively and in the /chat page, llama.cpp beside it
  native     the core through tabtwin._core, and llama-cpp-python on the same GGUF
  chatpage   the /chat page in Chromium, as a visitor uses it
  voice      Whisper tiny.en on the hold-to-talk test set: word error rate and real-time factor, natively
             and in Chromium, faster-whisper beside it (`tabtwin bench voice`)
  browser    `tabtwin bench browser`: tabtwin against wllama in the same Chromium, run by run
  wllama     the pinned wllama npm package, fetched once into the cache
  bandwidth  the memory-bandwidth bound of decoding (weight bytes per token, wasm read bandwidth)
  models     the files `bench browser` compares on by default (and the all-Q8_0 SmolLM2 it makes)
  report     medians, spreads and ratios; the console table and the README section
  chart      the PNG beside the JSON
  site       a site built for given GGUF files (and a chosen wasm), served on loopback
  chromium   Debian Chromium on a fresh profile; the renderer's peak RSS
  harness/   the pages and scripts the browser benchmark serves
"""
