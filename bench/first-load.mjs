// What a first visit to each page downloads of the client: the shell (the main WASM module and its two JS files)
// plus the chunks the page's lazy route needs (wasm-split's manifest, as the server names them in <head>). Every
// file is its own response, so each is compressed on its own. Run alone to print a Markdown table:
//   node bench/first-load.mjs [target/site/pkg]
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const sizes = (file) => {
  const bytes = readFileSync(file);
  return {
    raw: bytes.length,
    gzip: zlib.gzipSync(bytes, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};
const sum = (files) =>
  files.map(sizes).reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), {
    raw: 0,
    gzip: 0,
    brotli: 0,
    files: files.length,
  });

/// {shell, pages: [{page, chunks, total}]}; `pages` is empty for a build without --split.
export function firstLoad(pkgDir) {
  const names = readdirSync(pkgDir);
  const at = (name) => path.join(pkgDir, name);
  const shell = names.filter((n) => /^thicode\.[^.]+\.(wasm|js)$|^thicode(_bg)?\.(wasm|js)$|^__wasm_split\..*\.js$/.test(n));
  const manifestName = names.find((n) => n.startsWith("__wasm_split_manifest"));
  const manifest = manifestName ? JSON.parse(readFileSync(at(manifestName), "utf8")) : {};
  const shellSizes = { ...sum(shell.map(at)), files: shell.length };
  const pages = Object.entries(manifest)
    .map(([key, modules]) => {
      const chunks = { ...sum(modules.map((m) => at(`${m}.wasm`))), files: modules.length };
      const total = {
        raw: shellSizes.raw + chunks.raw,
        gzip: shellSizes.gzip + chunks.gzip,
        brotli: shellSizes.brotli + chunks.brotli,
        files: shellSizes.files + chunks.files,
      };
      // `__chat_route_view_<hash>` → `chat`, `admin_view_<hash>` (a section) → `admin`
      return { page: key.replace(/^_+/, "").replace(/(_route)?_view_\d+$/, ""), chunks, total };
    })
    .sort((a, b) => a.page.localeCompare(b.page));
  return { shell: shellSizes, pages };
}

const kb = (n) => (n / 1024).toFixed(1);

export function table({ shell, pages }) {
  const lines = [
    "| first visit to | files | raw | gzip | brotli |",
    "|---|---|---|---|---|",
    `| (shell alone: main module + JS) | ${shell.files} | ${kb(shell.raw)} KB | ${kb(shell.gzip)} KB | ${kb(shell.brotli)} KB |`,
  ];
  for (const { page, total } of pages) {
    lines.push(`| ${page} | ${total.files} | ${kb(total.raw)} KB | ${kb(total.gzip)} KB | ${kb(total.brotli)} KB |`);
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(table(firstLoad(process.argv[2] ?? "target/site/pkg")));
}
