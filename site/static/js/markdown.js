// A safe Markdown subset for the twin's answers, built as DOM nodes from the text: the model's words
// never pass through an HTML parser (no innerHTML anywhere), so markup in an answer shows as text.
// Blocks: paragraphs, "-", "*", "+" and "1." lists, ``` code blocks; a heading becomes a bold paragraph
// (an answer is a reply in a conversation, not a document with an outline).
// Inline: `code`, **strong**, *em* and _em_, [links](url) to this site or to http(s) pages, opened in a
// new tab (following a link in this tab would end the conversation, which nothing keeps). An image is
// shown as a link to it: an answer never makes the browser fetch anything by itself.

const FENCE = /^\s{0,3}(```|~~~)\s*([\w+#.-]*)\s*$/;
const LIST_ITEM = /^\s{0,3}([-*+]|(\d{1,9})[.)])\s+(.*)$/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
// One inline construct per alternative, tried left to right; the first to match at a position wins.
const INLINE = new RegExp([
  /`([^`\n]+)`/.source,                                  // 1: code
  /(!?)\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?\s*\)/.source,   // 2: "!" of an image, 3: text, 4: url
  /\*\*(?=\S)([^\n]*?\S)\*\*/.source,                    // 5: strong
  /__(?=\S)([^\n]*?\S)__(?!\w)/.source,                  // 6: strong
  /\*(?=[^\s*])([^\n*]*?[^\s*])\*/.source,               // 7: em (not a list bullet: no space after)
  /_(?=[^\s_])([^\n_]*?[^\s_])_(?!\w)/.source,            // 8: em (not after a letter: see inline())
].join("|"), "g");

/**
 * @typedef {{kind: "p" | "heading", text: string}
 *   | {kind: "code", text: string, language: string}
 *   | {kind: "list", ordered: boolean, start: number, items: string[]}} Block
 */

/** The blocks of `text`: {kind: "p"|"heading"|"code"|"list", ...}. An unclosed fence (an answer still
 * streaming) runs to the end.
 * @param {string} text
 * @returns {Block[]}
 */
export function parseBlocks(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  /** @type {Block[]} */
  const blocks = [];
  let i = 0;
  const startsBlock = (/** @type {string} */ line) => FENCE.test(line) || LIST_ITEM.test(line) || HEADING.test(line);
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(FENCE);
    if (fence) {
      const body = [];
      for (i += 1; i < lines.length && !lines[i].trim().startsWith(fence[1]); i += 1) body.push(lines[i]);
      i += 1;  // past the closing fence
      blocks.push({ kind: "code", text: body.join("\n"), language: fence[2] });
    } else if (!line.trim()) {
      i += 1;
    } else if (LIST_ITEM.test(line)) {
      const ordered = Boolean(line.match(LIST_ITEM)[2]);
      /** @type {Extract<Block, {kind: "list"}>} */
      const list = { kind: "list", ordered, start: Number(line.match(LIST_ITEM)[2] || 1), items: [] };
      while (i < lines.length) {
        const item = lines[i].match(LIST_ITEM);
        if (item && Boolean(item[2]) === ordered) list.items.push(item[3]);
        else if (!item && list.items.length && /^\s+\S/.test(lines[i])) list.items[list.items.length - 1] += `\n${lines[i].trim()}`;
        else break;
        i += 1;
      }
      blocks.push(list);
    } else if (HEADING.test(line)) {
      blocks.push({ kind: "heading", text: line.match(HEADING)[1] });
      i += 1;
    } else {
      const paragraph = [];
      for (; i < lines.length && lines[i].trim() && (!paragraph.length || !startsBlock(lines[i])); i += 1) {
        paragraph.push(lines[i]);
      }
      blocks.push({ kind: "p", text: paragraph.join("\n") });
    }
  }
  return blocks;
}

/** An absolute URL a link may go to: a page of this site (`base`'s origin) or any http(s) page; null
 * for anything else (javascript:, data:, blob:, file:, ...).
 * @param {string} raw
 * @param {string} base
 */
export function safeHref(raw, base) {
  let url;
  try {
    url = new URL(raw, base);
  } catch {
    return null;
  }
  const sameSite = url.origin === new URL(base).origin;
  return sameSite || url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} className
 * @param {...(Node|string)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function element(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

/**
 * @param {string} text
 * @param {string} raw  its target as written
 * @param {boolean} image
 * @param {string} base
 * @returns {Node[]}
 */
function link(text, raw, image, base) {
  const label = image ? `image: ${text || raw}` : text;
  const href = safeHref(raw, base);
  if (!href) return [document.createTextNode(label)];  // an unsafe target: its words, inert
  const a = element("a", image ? "image-link" : "", ...(image ? [label] : inline(text, base)));
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return [a];
}

/**
 * The inline nodes of one block's text (strings become text nodes).
 * @param {string} text
 * @param {string} base
 * @returns {(Node|string)[]}
 */
export function inline(text, base) {
  /** @type {(Node|string)[]} */
  const nodes = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > at) nodes.push(text.slice(at, m.index));
    // (a look-behind in INLINE would do this, but older Safari cannot parse one: the module would not load)
    if (m[8] !== undefined && /\w/.test(text[m.index - 1] || "")) nodes.push(m[0]);  // snake_case_words
    else if (m[1] !== undefined) nodes.push(element("code", "", m[1]));
    else if (m[3] !== undefined) nodes.push(...link(m[3], m[4], m[2] === "!", base));
    else if (m[5] !== undefined || m[6] !== undefined) nodes.push(element("strong", "", ...inline(m[5] ?? m[6], base)));
    else nodes.push(element("em", "", ...inline(m[7] ?? m[8], base)));
    at = m.index + m[0].length;
  }
  if (at < text.length) nodes.push(text.slice(at));
  return nodes;
}

/**
 * @param {Block} block
 * @param {string} base
 */
function blockNode(block, base) {
  if (block.kind === "code") {
    const code = element("code", block.language ? `language-${block.language}` : "", block.text);
    return element("pre", "", code);
  }
  if (block.kind === "list") {
    const list = element(block.ordered ? "ol" : "ul", "", ...block.items.map((item) => element("li", "", ...inline(item, base))));
    if (block.ordered && block.start !== 1) /** @type {HTMLOListElement} */ (list).start = block.start;
    return list;
  }
  if (block.kind === "heading") return element("p", "heading", element("strong", "", ...inline(block.text, base)));
  return element("p", "", ...inline(block.text, base));
}

/** Show `text` as Markdown in `target`, replacing what it held. A reply of one plain paragraph stays
 * one text node, exactly the model's words. `base`: the site's root URL (what "this site" is).
 * @param {HTMLElement} target
 * @param {string} text
 * @param {string} base
 */
export function renderMarkdown(target, text, base) {
  const blocks = parseBlocks(text);
  if (blocks.length === 1 && blocks[0].kind === "p") {
    target.replaceChildren(...inline(blocks[0].text, base));
  } else {
    target.replaceChildren(...blocks.map((block) => blockNode(block, base)));
  }
}
