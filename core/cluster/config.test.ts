import Ajv2020 from 'ajv/dist/2020';
import { clusterConfigSchema, DEFAULT_CLUSTER_CONFIG, resolveClusterConfig } from './config';

describe('clusterConfigSchema', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(clusterConfigSchema);

  it('documents every property with a description and its default, and rejects unknown ones', () => {
    const walk = (node: Record<string, unknown>, path: string): void => {
      expect({ path, additionalProperties: node.additionalProperties }).toEqual({ path, additionalProperties: false });
      for (const [k, v] of Object.entries(node.properties as Record<string, Record<string, unknown>>)) {
        expect({ p: `${path}/${k}`, d: typeof v.description }).toEqual({ p: `${path}/${k}`, d: 'string' });
        expect(v).toHaveProperty('default');
        if (v.type === 'object' && v.properties !== undefined) walk(v, `${path}/${k}`);
      }
    };
    walk(clusterConfigSchema, '');
    const props = clusterConfigSchema.properties as Record<string, { default: unknown }>;
    for (const [k, v] of Object.entries(DEFAULT_CLUSTER_CONFIG)) expect({ k, d: props[k]?.default }).toEqual({ k, d: v });
    expect(Object.keys(props).sort()).toEqual(Object.keys(DEFAULT_CLUSTER_CONFIG).sort());
  });

  it('accepts the defaults and partial sections', () => {
    expect(validate({})).toBe(true);
    expect(validate(DEFAULT_CLUSTER_CONFIG)).toBe(true);
    expect(validate({ windowHours: 72, windowHoursByFamily: { '0203': 720 }, candidates: { postingCap: 16 } })).toBe(true);
  });

  it('reports errors with data paths', () => {
    expect(validate({ windowHour: 1, candidates: { postingCap: 0, extra: 1 }, weights: { text: 'a' }, linkThreshold: 2 })).toBe(false);
    const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
    expect(paths).toEqual(
      expect.arrayContaining(['/candidates/postingCap minimum', '/candidates additionalProperties', '/weights/text type', '/linkThreshold maximum', ' additionalProperties']),
    );
  });

  it('agrees with resolveClusterConfig on what it rejects', () => {
    expect(() => resolveClusterConfig({ windowHours: 0 })).toThrow('/windowHours');
    expect(validate({ windowHours: 0 })).toBe(false);
    expect(resolveClusterConfig({ candidates: { postingCap: 16 } }).candidates.maxScored).toBe(48);
    // entryBudget 0 means "no budget"; negative or fractional budgets are rejected by both
    expect(resolveClusterConfig({ candidates: { entryBudget: 0 } }).candidates.entryBudget).toBe(0);
    expect(validate({ candidates: { entryBudget: 0 } })).toBe(true);
    for (const bad of [-1, 2.5]) {
      expect(() => resolveClusterConfig({ candidates: { entryBudget: bad } })).toThrow('/candidates/entryBudget');
      expect(validate({ candidates: { entryBudget: bad } })).toBe(false);
    }
  });
});
