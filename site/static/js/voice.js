// Hold-to-talk: hold the button (or the space bar in an empty input), speak,
// release. The audio is captured with MediaRecorder, decoded and resampled to
// 16 kHz mono with an OfflineAudioContext (a 16 kHz AudioContext on a live mic
// fails in Firefox), and transcribed by Whisper in the worker. Nothing is
// recorded while the button is not held, and no audio leaves the device.
//
// Waiting is what a visitor feels, so: the speech model starts loading on the
// first press (or once a chat model is ready and the page is idle) and recording
// never waits for it; the status counts the seconds while transcribing; a hold
// stops at Whisper's 30 s window and says so.
import * as msg from "./protocol.js";
import { SAMPLE_RATE, MIN_CLIP_SECONDS, MAX_CLIP_SECONDS } from "./constants.js";

/**
 * A hold of the button: only `pending` while the microphone opens, then the recorder and what it holds.
 * @typedef {object} Recording
 * @property {boolean} [pending]
 * @property {MediaRecorder} [recorder]
 * @property {Blob[]} [chunks]
 * @property {MediaStream} [stream]
 * @property {AudioContext} [audioContext]
 * @property {number} [startedAt]
 * @property {number} [raf]  the level meter's next frame
 * @property {ReturnType<typeof setTimeout>} [limit]  the stop at MAX_CLIP_SECONDS
 * @property {boolean} [limitReached]
 */

/**
 * `worker` is the page's connection to the worker (protocol.js connect).
 * @param {object} parts
 * @param {ReturnType<typeof msg.connect>} parts.worker
 * @param {msg.ModelEntry|undefined} parts.voice  models.json's voice model (URLs resolved); none: no button
 * @param {msg.WasmUrls} parts.wasm
 * @param {HTMLButtonElement} parts.button
 * @param {HTMLMeterElement} parts.meter
 * @param {HTMLTextAreaElement} parts.input
 * @param {HTMLElement} parts.status
 * @param {(text: string) => void} parts.onTranscript
 */
export function setupVoice({ worker, voice, wasm, button, meter, input, status, onTranscript }) {
  if (!voice || !navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
    button.hidden = true;
    return;
  }
  let loadedIn = 0;       // the worker the speech model is loaded into (connect's epoch); 0: none yet
  const ready = () => loadedIn === worker.epoch;  // a worker that died took it along
  /** @type {Promise<void>|null} */
  let loading = null;
  let wanted = false;     // the visitor has pressed the button: loading progress is worth showing
  /** @type {Recording|null} */
  let recording = null;   // {recorder, chunks, stream, audioContext, raf, startedAt, limit}

  const say = (/** @type {string} */ text, kind = "") => { status.textContent = text; status.dataset.kind = kind; };

  function ensureModel() {
    if (ready()) return Promise.resolve();
    if (!loading) {
      loading = new Promise((resolve, reject) => {
        worker.send(msg.LOAD_VOICE, { voice, wasm }, {
          [msg.PROGRESS]: ({ loaded, total }) => {
            // progress never covers a warning or error the visitor has not acted on yet ("Too short")
            if (total && wanted && !status.dataset.kind) say(`Loading speech model: ${Math.floor((100 * loaded) / total)}%`);
          },
          [msg.VOICE_READY]: () => {
            loadedIn = worker.epoch;
            loading = null;
            resolve();
          },
          [msg.ERROR]: ({ message }) => {
            loading = null;
            reject(new Error(message));
          },
        });
      });
    }
    return loading;
  }

  async function start() {
    if (recording) return;
    wanted = true;
    ensureModel().catch((err) => say(`Speech model failed to load: ${err.message}`, "error"));
    recording = { pending: true };
    button.setAttribute("aria-pressed", "true");
    document.body.dataset.recording = "true";
    /** @type {MediaStream} */
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } });
    } catch (err) {
      recording = null;
      stop(false);
      const denied = err.name === "NotAllowedError" || err.name === "SecurityError";
      say(denied ? "Microphone access was denied: allow it in the browser's site settings to talk."
                 : `No microphone available (${err.name}).`, "error");
      return;
    }
    if (!recording) { stream.getTracks().forEach((t) => t.stop()); return; }  // released while asking
    /** @type {Blob[]} */
    const chunks = [];
    const recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    const audioContext = new AudioContext();
    const analyser = audioContext.createAnalyser();
    audioContext.createMediaStreamSource(stream).connect(analyser);
    const levels = new Uint8Array(analyser.fftSize);
    const draw = () => {
      analyser.getByteTimeDomainData(levels);
      const peak = levels.reduce((m, v) => Math.max(m, Math.abs(v - 128)), 0) / 128;
      meter.value = peak;
      recording.raf = requestAnimationFrame(draw);
    };
    recording = { recorder, chunks, stream, audioContext, startedAt: performance.now() };
    const current = recording;
    current.limit = setTimeout(() => {
      if (recording !== current) return;
      current.limitReached = true;
      stop();
    }, MAX_CLIP_SECONDS * 1000);
    recorder.start();
    draw();
    say("Listening… release to transcribe.");
  }

  async function stop(transcribe = true) {
    button.setAttribute("aria-pressed", "false");
    delete document.body.dataset.recording;
    const r = recording;
    recording = null;
    if (!r) return;
    if (r.pending) {  // released before the microphone even opened
      if (transcribe) say("Too short: hold the button while you speak.", "warning");
      return;
    }
    cancelAnimationFrame(r.raf);
    clearTimeout(r.limit);
    meter.value = 0;
    const stopped = new Promise((resolve) => { r.recorder.onstop = resolve; });
    r.recorder.stop();
    await stopped;
    r.stream.getTracks().forEach((t) => t.stop());
    r.audioContext.close();
    if (!transcribe) return;
    const heldSeconds = (performance.now() - r.startedAt) / 1000;
    if (heldSeconds < MIN_CLIP_SECONDS) return say("Too short: hold the button while you speak.", "warning");
    const limit = r.limitReached ? ` (stopped at the ${MAX_CLIP_SECONDS} s limit)` : "";
    // The visitor waits from here: count the seconds until the words arrive.
    const since = performance.now();
    const tick = () => {
      const waiting = ready() ? "Transcribing" : "Loading the speech model, then transcribing";
      say(`${waiting} on this device${limit}… ${((performance.now() - since) / 1000).toFixed(1)} s`);
    };
    tick();
    const ticker = setInterval(tick, 100);
    try {
      const samples = await toMono16k(new Blob(r.chunks, { type: r.recorder.mimeType }));
      if (samples.length < MIN_CLIP_SECONDS * SAMPLE_RATE) {
        clearInterval(ticker);
        return say("Too short: hold the button while you speak.", "warning");
      }
      await ensureModel();
      /** @type {msg.TranscriptReply} */
      const result = await new Promise((resolve, reject) => {
        worker.send(msg.TRANSCRIBE, { samples: samples.subarray(0, MAX_CLIP_SECONDS * SAMPLE_RATE) }, {
          [msg.TRANSCRIPT]: resolve,
          [msg.ERROR]: ({ message }) => reject(new Error(message)),
        }, [samples.buffer]);
      });
      clearInterval(ticker);
      if (result.nothing_heard) return say("Nothing heard — try again, a little closer to the microphone.", "warning");
      say(`Heard ${result.audio_seconds.toFixed(1)} s of speech${limit} (transcribed in ${result.seconds.toFixed(1)} s).`);
      onTranscript(result.text);
    } catch (err) {
      clearInterval(ticker);
      say(`Could not transcribe: ${err.message}`, "error");
    }
  }

  // Once a chat model is ready, fetch the speech model while the page has nothing else to do,
  // so that the first hold-to-talk need not wait for it (a cached model costs no download).
  const preload = () => {
    if (document.body.dataset.ready !== "true" || loading || ready()) return;
    const idle = /** @type {(run: () => void, options: {timeout: number}) => unknown} */ (
      window.requestIdleCallback || ((f) => setTimeout(f, 500)));
    idle(() => ensureModel().catch(() => { loading = null; }), { timeout: 5000 });
  };
  new MutationObserver(preload).observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
  preload();

  button.hidden = false;
  button.addEventListener("pointerdown", (e) => { e.preventDefault(); start(); });
  button.addEventListener("pointerup", () => stop());
  button.addEventListener("pointerleave", () => recording && stop());
  input.addEventListener("keydown", (e) => {
    if (e.code === "Space" && !e.repeat && input.value === "") { e.preventDefault(); start(); }
  });
  input.addEventListener("keyup", (e) => {
    if (e.code === "Space" && recording) { e.preventDefault(); stop(); }
  });
}

/** @param {Blob} blob */
async function toMono16k(blob) {
  const encoded = await blob.arrayBuffer();
  const decodeContext = new AudioContext();
  const decoded = await decodeContext.decodeAudioData(encoded);
  decodeContext.close();
  const frames = Math.ceil(decoded.duration * SAMPLE_RATE);
  if (frames === 0) return new Float32Array(0);
  const offline = new OfflineAudioContext(1, frames, SAMPLE_RATE);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return rendered.getChannelData(0).slice();
}
