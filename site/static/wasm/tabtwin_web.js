export class Chat {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        ChatFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_chat_free(ptr, 0);
    }
    /**
     * Forget the last question and its reply (the page's "regenerate").
     */
    forget_last_exchange() {
        const ret = wasm.chat_forget_last_exchange(this.__wbg_ptr);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Tokens the current/last reply has so far (the end-of-turn token not counted).
     * @returns {number}
     */
    generated_tokens() {
        const ret = wasm.chat_generated_tokens(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * The conversation so far as JSON [{role, content}, ...].
     * @returns {string}
     */
    history() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.chat_history(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Model facts as JSON: architecture, name, context_length, vocab_size,
     * embedded_system_prompt, persona, tools, refusals, sampling (the model's effective defaults).
     * @returns {string}
     */
    info() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.chat_info(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * Parse and load a GGUF model from its assembled bytes (consumed: the model uses them in place).
     * @param {ModelBytes} bytes
     */
    constructor(bytes) {
        _assertClass(bytes, ModelBytes);
        var ptr0 = bytes.__destroy_into_raw();
        const ret = wasm.chat_new(ptr0);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        ChatFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * Prompt tokens the last `start` fed to the model (what was cached, not counted).
     * @returns {number}
     */
    prefill_tokens() {
        const ret = wasm.chat_prefill_tokens(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * Feed up to `most` tokens of the prompt a reply to `prompt` would start from (the page
     * calls it while the visitor types, a chunk at a time), so that `start` with the same or a
     * longer prompt feeds only what differs. Same options as `start` (max_tokens bounds the
     * window). Returns JSON {fed, left}: tokens fed now, tokens still to feed.
     * @param {string} prompt
     * @param {string | null | undefined} options_json
     * @param {number} most
     * @returns {string}
     */
    prepare(prompt, options_json, most) {
        let deferred5_0;
        let deferred5_1;
        try {
            const val3 = +most;
            let ptr0, len0, ptr1, len1;
            try {
                ptr0 = passStringToWasm0(prompt, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
                len0 = WASM_VECTOR_LEN;
                ptr1 = isLikeNone(options_json) ? 0 : passStringToWasm0(options_json, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
                len1 = WASM_VECTOR_LEN;
            } catch (e) {
                if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
                if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
                throw e;
            }
            const ret = wasm.chat_prepare(this.__wbg_ptr, ptr0, len0, ptr1, len1, val3);
            var ptr4 = ret[0];
            var len4 = ret[1];
            if (ret[3]) {
                ptr4 = 0; len4 = 0;
                throw takeFromExternrefTable0(ret[2]);
            }
            deferred5_0 = ptr4;
            deferred5_1 = len4;
            return getStringFromWasm0(ptr4, len4);
        } finally {
            wasm.__wbindgen_free(deferred5_0, deferred5_1, 1);
        }
    }
    /**
     * Whether the last reply is the twin saying it does not know (it opens like one of the
     * refusals in its GGUF): the page then lists the turn's passages as looked in, not as sources.
     * @returns {boolean}
     */
    refused() {
        const ret = wasm.chat_refused(this.__wbg_ptr);
        return ret !== 0;
    }
    /**
     * Forget the conversation.
     */
    reset() {
        wasm.chat_reset(this.__wbg_ptr);
    }
    /**
     * Cap the conversation's token window (prompt + answer).
     * @param {number} tokens
     */
    set_context_limit(tokens) {
        const ret = wasm.chat_set_context_limit(this.__wbg_ptr, tokens);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Seed the conversation from JSON [{role, content}, ...] (user first, assistant last).
     * @param {string} messages
     */
    set_history(messages) {
        const ptr0 = passStringToWasm0(messages, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.chat_set_history(this.__wbg_ptr, ptr0, len0);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Begin a reply to `prompt`; then call `step()` until it returns undefined.
     * `options_json`: a JSON object of overrides in snake_case (max_tokens, temperature,
     * top_k, top_p, repeat_penalty, repeat_last_n, seed); absent keys keep the model's defaults.
     * @param {string} prompt
     * @param {string | null} [options_json]
     */
    start(prompt, options_json) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(prompt, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = isLikeNone(options_json) ? 0 : passStringToWasm0(options_json, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.chat_start(this.__wbg_ptr, ptr0, len0, ptr1, len1);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The events of the next token as a JSON array (often one `{"kind":"text"}`,
     * sometimes none), or undefined when the reply is over.
     * @returns {string | undefined}
     */
    step() {
        const ret = wasm.chat_step(this.__wbg_ptr);
        if (ret[3]) {
            throw takeFromExternrefTable0(ret[2]);
        }
        let v1;
        if (ret[0] !== 0) {
            v1 = getStringFromWasm0(ret[0], ret[1]);
            wasm.__wbindgen_free(ret[0], ret[1] * 1, 1);
        }
        return v1;
    }
    /**
     * End the current reply now; what was said stays in the conversation.
     */
    stop() {
        wasm.chat_stop(this.__wbg_ptr);
    }
    /**
     * Why the last reply ended (end_of_turn, max_tokens, context_full, stopped).
     * @returns {string | undefined}
     */
    stop_reason() {
        const ret = wasm.chat_stop_reason(this.__wbg_ptr);
        let v1;
        if (ret[0] !== 0) {
            v1 = getStringFromWasm0(ret[0], ret[1]);
            wasm.__wbindgen_free(ret[0], ret[1] * 1, 1);
        }
        return v1;
    }
    /**
     * The last reply's names and numbers that nothing the model was told states (its system
     * prompt, the conversation's user turns with their notes), as a JSON list of strings: the
     * page lists them under a grounded answer as "not in its notes".
     * @returns {string}
     */
    unsupported() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.chat_unsupported(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
}
if (Symbol.dispose) Chat.prototype[Symbol.dispose] = Chat.prototype.free;

/**
 * The site's grounding index: passages of the author's own pages for each question.
 */
export class Grounding {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        GroundingFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_grounding_free(ptr, 0);
    }
    /**
     * Match questions by meaning too, with the embedding model the index names (its assembled bytes).
     * @param {ModelBytes} bytes
     */
    attach_embedder(bytes) {
        _assertClass(bytes, ModelBytes);
        var ptr0 = bytes.__destroy_into_raw();
        const ret = wasm.grounding_attach_embedder(this.__wbg_ptr, ptr0);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * `question` as the model sees it, as JSON {text, sources: [{id, source, title, url, score}],
     * decision, options}: pass `options` to `Chat.start` with the caller's own. `limits_json`:
     * overrides of the core's limits (top_k, min_score, budget_chars). `previous`: the visitor's
     * last question as typed (a follow-up is matched with it).
     * @param {string} question
     * @param {string | null} [limits_json]
     * @param {string | null} [previous]
     * @returns {string}
     */
    ground(question, limits_json, previous) {
        let deferred5_0;
        let deferred5_1;
        try {
            let ptr0, len0, ptr1, len1, ptr2, len2;
            try {
                ptr0 = passStringToWasm0(question, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
                len0 = WASM_VECTOR_LEN;
                ptr1 = isLikeNone(limits_json) ? 0 : passStringToWasm0(limits_json, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
                len1 = WASM_VECTOR_LEN;
                ptr2 = isLikeNone(previous) ? 0 : passStringToWasm0(previous, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
                len2 = WASM_VECTOR_LEN;
            } catch (e) {
                if (ptr2) { wasm.__wbindgen_free(ptr2, len2 * 1, 1); }
                if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
                if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
                throw e;
            }
            const ret = wasm.grounding_ground(this.__wbg_ptr, ptr0, len0, ptr1, len1, ptr2, len2);
            var ptr4 = ret[0];
            var len4 = ret[1];
            if (ret[3]) {
                ptr4 = 0; len4 = 0;
                throw takeFromExternrefTable0(ret[2]);
            }
            deferred5_0 = ptr4;
            deferred5_1 = len4;
            return getStringFromWasm0(ptr4, len4);
        } finally {
            wasm.__wbindgen_free(deferred5_0, deferred5_1, 1);
        }
    }
    /**
     * From the assembled (and verified) bytes of `grounding.<hash>.json`, as a model arrives.
     * @param {ModelBytes} bytes
     */
    constructor(bytes) {
        _assertClass(bytes, ModelBytes);
        var ptr0 = bytes.__destroy_into_raw();
        const ret = wasm.grounding_new(ptr0);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        GroundingFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * @returns {number}
     */
    passages() {
        const ret = wasm.grounding_passages(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * Whether questions are matched by meaning (an embedder is attached) or by words alone.
     * @returns {boolean}
     */
    semantic() {
        const ret = wasm.grounding_semantic(this.__wbg_ptr);
        return ret !== 0;
    }
}
if (Symbol.dispose) Grounding.prototype[Symbol.dispose] = Grounding.prototype.free;

/**
 * A model file arriving in pieces, assembled in wasm memory where the model will
 * use it in place (the worker never holds the whole file in JS).
 */
export class ModelBytes {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        ModelBytesFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_modelbytes_free(ptr, 0);
    }
    /**
     * End the piece (shard) pushed since the last one ended: kept when its sha256 is `sha256`
     * (hex), else dropped so it can be pushed again, and thrown.
     * @param {string} sha256
     */
    end_piece(sha256) {
        const ptr0 = passStringToWasm0(sha256, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.modelbytes_end_piece(this.__wbg_ptr, ptr0, len0);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * Room for exactly `total` bytes; `hash` to check them with `verify` afterwards.
     * @param {number} total
     * @param {boolean} hash
     */
    constructor(total, hash) {
        const ret = wasm.modelbytes_new(total, hash);
        this.__wbg_ptr = ret;
        ModelBytesFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * Append the next piece (copied into wasm memory; the caller may drop it).
     * @param {Uint8Array | number[]} piece
     */
    push(piece) {
        const ptr0 = passArray8ToWasm0(piece, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.modelbytes_push(this.__wbg_ptr, ptr0, len0);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * @returns {number}
     */
    received() {
        const ret = wasm.modelbytes_received(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * Throw unless every byte arrived and their sha256 is `sha256` (hex).
     * @param {string} sha256
     */
    verify(sha256) {
        const ptr0 = passStringToWasm0(sha256, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.modelbytes_verify(this.__wbg_ptr, ptr0, len0);
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
}
if (Symbol.dispose) ModelBytes.prototype[Symbol.dispose] = ModelBytes.prototype.free;

/**
 * Whisper speech-to-text, in the same module as the chat models.
 */
export class Transcriber {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        TranscriberFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_transcriber_free(ptr, 0);
    }
    /**
     * @param {ModelBytes} bytes
     */
    constructor(bytes) {
        _assertClass(bytes, ModelBytes);
        var ptr0 = bytes.__destroy_into_raw();
        const ret = wasm.transcriber_new(ptr0);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        TranscriberFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * 16 kHz mono samples -> JSON {text, tokens, audio_seconds, no_speech_prob, nothing_heard,
     * window_seconds}. `options_json`: `{"window": "fitted" | "full" | {"seconds": N}}`, or nothing.
     * @param {Float32Array | number[]} samples
     * @param {string | null} [options_json]
     * @returns {string}
     */
    transcribe(samples, options_json) {
        let deferred4_0;
        let deferred4_1;
        try {
            let ptr0, len0, ptr1, len1;
            try {
                ptr0 = passArrayF32ToWasm0(samples, wasm.__wbindgen_malloc);
                len0 = WASM_VECTOR_LEN;
                ptr1 = isLikeNone(options_json) ? 0 : passStringToWasm0(options_json, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
                len1 = WASM_VECTOR_LEN;
            } catch (e) {
                if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
                if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 4, 4); }
                throw e;
            }
            const ret = wasm.transcriber_transcribe(this.__wbg_ptr, ptr0, len0, ptr1, len1);
            var ptr3 = ret[0];
            var len3 = ret[1];
            if (ret[3]) {
                ptr3 = 0; len3 = 0;
                throw takeFromExternrefTable0(ret[2]);
            }
            deferred4_0 = ptr3;
            deferred4_1 = len3;
            return getStringFromWasm0(ptr3, len3);
        } finally {
            wasm.__wbindgen_free(deferred4_0, deferred4_1, 1);
        }
    }
}
if (Symbol.dispose) Transcriber.prototype[Symbol.dispose] = Transcriber.prototype.free;

/**
 * True when the simd128 kernels were compiled in.
 * @returns {boolean}
 */
export function with_simd128() {
    const ret = wasm.with_simd128();
    return ret !== 0;
}
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_Error_208446807d0d1e30: function(arg0, arg1) {
            const ret = Error(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg___wbindgen_throw_4c88d8bf264fd984: function(arg0, arg1) {
            throw new Error(getStringFromWasm0(arg0, arg1));
        },
        __wbg_getRandomValues_5d8c030b527203a6: function() { return handleError(function (arg0, arg1) {
            globalThis.crypto.getRandomValues(getArrayU8FromWasm0(arg0, arg1));
        }, arguments); },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
            table.set(0, undefined);
            table.set(1024, undefined);
            table.set(1025, null);
            table.set(1026, true);
            table.set(1027, false);
        },
    };
    return {
        __proto__: null,
        "./tabtwin_web_bg.js": import0,
    };
}

const ChatFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_chat_free(ptr, 1));
const GroundingFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_grounding_free(ptr, 1));
const ModelBytesFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_modelbytes_free(ptr, 1));
const TranscriberFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_transcriber_free(ptr, 1));

function addToExternrefTable0(obj) {
    const idx = wasm.__externref_table_alloc();
    wasm.__wbindgen_externrefs.set(idx, obj);
    return idx;
}

function _assertClass(instance, klass) {
    if (!(instance instanceof klass)) {
        throw new Error(`expected instance of ${klass.name}`);
    }
}

function getArrayU8FromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return getUint8ArrayMemory0().subarray(ptr / 1, ptr / 1 + len);
}

let cachedFloat32ArrayMemory0 = null;
function getFloat32ArrayMemory0() {
    if (cachedFloat32ArrayMemory0 === null || cachedFloat32ArrayMemory0.byteLength === 0) {
        cachedFloat32ArrayMemory0 = new Float32Array(wasm.memory.buffer);
    }
    return cachedFloat32ArrayMemory0;
}

function getStringFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}

let cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
        cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
    }
    return cachedUint8ArrayMemory0;
}

function handleError(f, args) {
    try {
        return f.apply(this, args);
    } catch (e) {
        const idx = addToExternrefTable0(e);
        wasm.__wbindgen_exn_store(idx);
    }
}

function isLikeNone(x) {
    return x === undefined || x === null;
}

function passArray8ToWasm0(arg, malloc) {
    const ptr = malloc(arg.length * 1, 1) >>> 0;
    getUint8ArrayMemory0().set(arg, ptr / 1);
    WASM_VECTOR_LEN = arg.length;
    return ptr;
}

function passArrayF32ToWasm0(arg, malloc) {
    const ptr = malloc(arg.length * 4, 4) >>> 0;
    getFloat32ArrayMemory0().set(arg, ptr / 4);
    WASM_VECTOR_LEN = arg.length;
    return ptr;
}

function passStringToWasm0(arg, malloc, realloc) {
    if (realloc === undefined) {
        const buf = cachedTextEncoder.encode(arg);
        const ptr = malloc(buf.length, 1) >>> 0;
        getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
        WASM_VECTOR_LEN = buf.length;
        return ptr;
    }

    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;
}

function takeFromExternrefTable0(idx) {
    const value = wasm.__wbindgen_externrefs.get(idx);
    wasm.__externref_table_dealloc(idx);
    return value;
}

let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
cachedTextDecoder.decode();
const MAX_SAFARI_DECODE_BYTES = 2146435072;
let numBytesDecoded = 0;
function decodeText(bytes) {
    numBytesDecoded += bytes.length;
    if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
        cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
        cachedTextDecoder.decode();
        numBytesDecoded = bytes.length;
    }
    return cachedTextDecoder.decode(bytes);
}

const cachedTextEncoder = new TextEncoder();

if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}

let WASM_VECTOR_LEN = 0;

let wasmModule, wasmInstance, wasm;
function __wbg_finalize_init(instance, module) {
    wasmInstance = instance;
    wasm = instance.exports;
    wasmModule = module;
    cachedFloat32ArrayMemory0 = null;
    cachedUint8ArrayMemory0 = null;
    wasm.__wbindgen_start();
    return wasm;
}

async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
        }

        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn("`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\n", e);

                } else { throw e; }
            }
        }

        const bytes = await module.arrayBuffer();
        return await WebAssembly.instantiate(bytes, imports);
    } else {
        const instance = await WebAssembly.instantiate(module, imports);

        if (instance instanceof WebAssembly.Instance) {
            return { instance, module };
        } else {
            return instance;
        }
    }

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }
}

function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}

let __wbg_init_promise;
async function __wbg_init(module_or_path) {
    if (wasm !== undefined) return wasm;
    if (__wbg_init_promise === undefined) {
        __wbg_init_promise = __wbg_init_once(module_or_path);
        __wbg_init_promise.catch(() => { __wbg_init_promise = undefined; });
    }
    return __wbg_init_promise;
}

async function __wbg_init_once(module_or_path) {

    if (module_or_path !== undefined) {
        if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
            ({module_or_path} = module_or_path)
        } else {
            console.warn('using deprecated parameters for the initialization function; pass a single object instead')
        }
    }

    if (module_or_path === undefined) {
        module_or_path = new URL('tabtwin_web_bg.wasm', import.meta.url);
    }
    const imports = __wbg_get_imports();

    if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
        module_or_path = fetch(module_or_path);
    }

    const { instance, module } = await __wbg_load(await module_or_path, imports);

    return __wbg_finalize_init(instance, module);
}

export { initSync, __wbg_init as default };
