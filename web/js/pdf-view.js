/* 问源 (wenyuan) chat page: a PDF citation shown on the page it quotes.
 *
 * pdf.js (npm pdfjs-dist, unpacked by scripts/fetch_pdfjs.sh) is served by the
 * app at /pdfjs/ with its CJK cmaps and standard fonts, so nothing comes from
 * the network. It is imported only when a PDF citation is opened; when the
 * server has no copy, `pages` resolves null and the source panel shows the
 * extracted text, as it does for every other format.
 *
 * A citation's boxes are PDF points from the page's top-left with the page's
 * size, so each highlight is placed in percent of the page: it stays on its
 * line at any canvas size. Nodes are made with createElement and placed
 * through the CSSOM (the page's CSP allows no style attributes).
 */

const PDFJS = "/pdfjs/";
/** Promise of the pdf.js module, or of null when the server has none. */
let library = null;
/** Promise of each opened document (pdf.js's PDFDocumentProxy), by document name. */
const files = new Map();

function pdfjs() {
  if (!library) {
    library = import(PDFJS + "build/pdf.min.mjs")
      .then((lib) => {
        lib.GlobalWorkerOptions.workerSrc = PDFJS + "build/pdf.worker.min.mjs";
        return lib;
      })
      .catch((err) => {
        console.warn("pdf.js is not available; PDF citations show as text", err);
        return null;
      });
  }
  return library;
}

function open(lib, doc) {
  if (!files.has(doc)) {
    const task = lib.getDocument({
      url: `/api/documents/${encodeURIComponent(doc)}/source`,
      cMapUrl: PDFJS + "cmaps/",
      cMapPacked: true,
      standardFontDataUrl: PDFJS + "standard_fonts/",
      wasmUrl: PDFJS + "wasm/",
      iccUrl: PDFJS + "iccs/",
    });
    task.promise.catch(() => files.delete(doc)); // retry next time
    files.set(doc, task.promise);
  }
  return files.get(doc);
}

/** Forget opened documents: an upload may have replaced one. */
export function forget() {
  for (const promise of files.values()) promise.then((pdf) => pdf.destroy()).catch(() => {});
  files.clear();
}

function element(tag, className, testid) {
  const node = document.createElement(tag);
  node.className = className;
  if (testid) node.setAttribute("data-testid", testid);
  return node;
}

function validBox(box) {
  return (
    box &&
    [box.page, box.x0, box.top, box.x1, box.bottom, box.page_width, box.page_height].every(Number.isFinite) &&
    box.page_width > 0 &&
    box.page_height > 0
  );
}

/** A rectangle over the canvas at the box's place, in percent of the page. */
function overlay(box, className, testid) {
  const node = element("div", className, testid);
  node.style.left = `${(100 * box.x0) / box.page_width}%`;
  node.style.top = `${(100 * box.top) / box.page_height}%`;
  node.style.width = `${(100 * (box.x1 - box.x0)) / box.page_width}%`;
  node.style.height = `${(100 * (box.bottom - box.top)) / box.page_height}%`;
  node.setAttribute("aria-hidden", "true");
  return node;
}

async function sheet(pdf, number, width, marks, passage) {
  const page = await pdf.getPage(number);
  const base = page.getViewport({ scale: 1 });
  const ratio = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: (width / base.width) * ratio });
  const canvas = element("canvas", "pdf-canvas", "pdf-canvas");
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `PDF 第 ${number} 页`);
  await page.render({ canvasContext: canvas.getContext("2d"), canvas, viewport }).promise;
  const wrap = element("div", "pdf-page", "pdf-page");
  wrap.setAttribute("data-page", String(number));
  wrap.appendChild(canvas);
  for (const box of passage) if (box.page === number) wrap.appendChild(overlay(box, "pdf-passage", "pdf-passage"));
  for (const box of marks) if (box.page === number) wrap.appendChild(overlay(box, "pdf-mark", "pdf-highlight"));
  return wrap;
}

/**
 * The cited pages of `doc` drawn `width` CSS pixels wide, `marks` (the quoted
 * lines) highlighted over `passage` (the whole passage's lines, lighter).
 * Resolves to a node, or null when pdf.js or the file cannot be had.
 */
export async function pages(doc, marks, passage, fallbackPage, width) {
  marks = (marks || []).filter(validBox);
  passage = (passage || []).filter(validBox);
  const numbers = [...new Set(marks.map((b) => b.page))].sort((a, b) => a - b);
  if (!numbers.length && Number.isInteger(fallbackPage)) numbers.push(fallbackPage);
  const lib = await pdfjs();
  if (!lib || !numbers.length) return null;
  try {
    const pdf = await open(lib, doc);
    const out = element("div", "pdf-pages", "pdf-pages");
    for (const number of numbers) {
      if (number >= 1 && number <= pdf.numPages) out.appendChild(await sheet(pdf, number, width, marks, passage));
    }
    return out.childNodes.length ? out : null;
  } catch (err) {
    console.warn("the PDF page could not be drawn; showing its text", err);
    return null;
  }
}
