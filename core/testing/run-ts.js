/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run by node, not compiled */
// Runs a TypeScript entry point in a child process of a test, without a build: every required
// .ts file is transpiled on the fly (no type check: the typecheck step does that).
// Usage: node core/testing/run-ts.js core/cli/main.ts store materialize --config hub.yaml
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true, sourceMap: false, inlineSourceMap: true };
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions: options, fileName: filename });
  module._compile(out.outputText, filename);
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
