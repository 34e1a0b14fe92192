// Copies non-TypeScript runtime assets (fixtures, examples) next to the compiled code is not
// needed: runtime code resolves assets from the package root. This script only checks that the
// schemas compiled alongside the code are present.
const fs = require('node:fs');
const path = require('node:path');
const must = path.join(__dirname, '..', '..', 'dist', 'core', 'cli', 'main.js');
if (!fs.existsSync(must)) { console.error(`build output missing: ${must}`); process.exit(1); }
