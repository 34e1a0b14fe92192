/**
 * A simulated police dispatch gateway: posts every fixture hand-over (fixtures/*.xml) to a running
 * hub, signed like the gateway would, and prints each XML receipt. Run it against `npm start` with
 * a police-110 connector configured (see docs/connectors/police-110.md):
 *
 *   npm run build && node dist/connectors/police-110/simulate.js http://127.0.0.1:8080/intake/police-110 whsec_...
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { sign } from '../../core/sdk/signature';
import { packageRoot } from '../../core/util/paths';

export async function simulatePolice110(url: string, secret: string | null, log: (line: string) => void = console.log): Promise<number> {
  const dir = join(packageRoot(), 'connectors', 'police-110', 'fixtures');
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.xml')).sort()) {
    const body = readFileSync(join(dir, f));
    const id = `msg_110_${f}`;
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { 'content-type': 'application/xml', 'webhook-id': id, 'webhook-timestamp': String(ts) };
    if (secret) headers['webhook-signature'] = sign(secret, id, ts, body);
    const res = await request(url, { method: 'POST', headers, body });
    log(`${f} → ${res.statusCode} ${await res.body.text()}`);
    n++;
  }
  return n;
}

if (require.main === module) {
  const [url, secret] = process.argv.slice(2);
  if (!url) {
    console.error('usage: simulate.js <intake url> [whsec_secret]');
    process.exit(2);
  }
  simulatePolice110(url, secret ?? null).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
