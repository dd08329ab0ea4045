// Hold-to-talk: hold the button (or the space bar in an empty input), speak,
// release. The audio is captured with MediaRecorder, decoded and resampled to
// 16 kHz mono with an OfflineAudioContext (a 16 kHz AudioContext on a live mic
// fails in Firefox), and transcribed by Whisper in the worker. Nothing is
// recorded while the button is not held, and no audio leaves the device.
import * as msg from "./protocol.js";
import { SAMPLE_RATE, MIN_CLIP_SECONDS } from "./constants.js";

// `worker` is the page's connection to the worker (protocol.js connect).
export function setupVoice({ worker, voice, wasm, button, meter, input, status, onTranscript }) {
  if (!voice || !navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
    button.hidden = true;
    return;
  }
  let ready = false;
  let loading = null;
  let recording = null;   // {recorder, chunks, stream, audioContext, raf, startedAt}

  const say = (text, kind = "") => { status.textContent = text; status.dataset.kind = kind; };

  function ensureModel() {
    if (ready) return Promise.resolve();
    if (!loading) {
      loading = new Promise((resolve, reject) => {
        worker.send(msg.LOAD_VOICE, { voice, wasm }, {
          [msg.PROGRESS]: ({ loaded, total }) => {
            // progress never covers a warning or error the visitor has not acted on yet ("Too short")
            if (total && !status.dataset.kind) say(`Loading speech model: ${Math.floor((100 * loaded) / total)}%`);
          },
          [msg.VOICE_READY]: () => {
            ready = true;
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
    recording = { pending: true };
    button.setAttribute("aria-pressed", "true");
    document.body.dataset.recording = "true";
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
    recorder.start();
    draw();
    say("Listening… release to transcribe.");
    ensureModel().catch((err) => say(`Speech model failed to load: ${err.message}`, "error"));
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
    meter.value = 0;
    const stopped = new Promise((resolve) => { r.recorder.onstop = resolve; });
    r.recorder.stop();
    await stopped;
    r.stream.getTracks().forEach((t) => t.stop());
    r.audioContext.close();
    if (!transcribe) return;
    const heldSeconds = (performance.now() - r.startedAt) / 1000;
    if (heldSeconds < MIN_CLIP_SECONDS) return say("Too short: hold the button while you speak.", "warning");
    say("Transcribing on this device…");
    try {
      const samples = await toMono16k(new Blob(r.chunks, { type: r.recorder.mimeType }));
      if (samples.length < MIN_CLIP_SECONDS * SAMPLE_RATE) return say("Too short: hold the button while you speak.", "warning");
      await ensureModel();
      const result = await new Promise((resolve, reject) => {
        worker.send(msg.TRANSCRIBE, { samples }, {
          [msg.TRANSCRIPT]: resolve,
          [msg.ERROR]: ({ message }) => reject(new Error(message)),
        }, [samples.buffer]);
      });
      if (result.nothing_heard) return say("Nothing heard — try again, a little closer to the microphone.", "warning");
      say(`Heard ${result.audio_seconds.toFixed(1)} s of speech (transcribed in ${result.seconds.toFixed(1)} s).`);
      onTranscript(result.text);
    } catch (err) {
      say(`Could not transcribe: ${err.message}`, "error");
    }
  }

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
