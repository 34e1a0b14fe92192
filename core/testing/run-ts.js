/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run by node, not compiled */
// Runs a TypeScript entry point in a child process of a test, without a build: every required
// .ts file is transpiled on the fly (no type check: the typecheck step does that). Transpiled files
// are cached by content in the OS temp dir, so the tests that start many hub processes (the fault
// run starts a dozen) pay the transpilation once.
// Usage: node core/testing/run-ts.js core/cli/main.ts store materialize --config hub.yaml
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// the compiler is loaded only on a cache miss (loading it costs about a second)
let ts = null;
const tsVersion = require('typescript/package.json').version;
const cacheDir = path.join(os.tmpdir(), `intake-hub-run-ts-${tsVersion}`);
// an edit of this runner (its compiler options) invalidates every cached file
const runnerHash = crypto.createHash('sha256').update(fs.readFileSync(__filename)).digest('hex');

function transpile(filename, source) {
  const key = crypto.createHash('sha256').update(runnerHash).update(filename).update('\0').update(source).digest('hex');
  const file = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    // not cached yet
  }
  ts ??= require('typescript');
  const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true, sourceMap: false, inlineSourceMap: true };
  const out = ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, file); // atomic: a concurrent reader sees the whole file or none
  } catch {
    // a read-only temp dir: run uncached
  }
  return out;
}

require.extensions['.ts'] = (module, filename) => {
  module._compile(transpile(filename, fs.readFileSync(filename, 'utf8')), filename);
};

const [entry, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], path.resolve(entry), ...args];
const mod = require(path.resolve(entry));
if (typeof mod.main === 'function') {
  mod.main(args).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`error: ${e && e.stack ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
