import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from './config/config';
import { ClusterStage } from './cluster/stage';
import * as labelModel from './catalog/model';
import { defaultStages } from './stages';

describe('defaultStages', () => {
  it('reads no model file until load() or stages(): an intake starts without them, a bad file fails at load', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'stages-')), 'model.json.gz');
    writeFileSync(bad, 'not a model');
    const config = validateConfig({ catalog: { classification: { modelFile: bad } }, clustering: { windowHours: 48 } });
    const shipped = defaultStages(config);
    // the horizon comes from the cluster configuration, without the models
    expect(shipped.restoreHorizonMs).toBe(new ClusterStage(config.clustering).restoreHorizonMs);
    expect(shipped.restoreHorizonMs).toBeGreaterThanOrEqual(48 * 3600_000);
    expect(shipped.catalog.current().categories.length).toBeGreaterThan(0);
    expect(() => shipped.load()).toThrow();
    expect(() => shipped.stages()).toThrow();
  });

  it('loads the shipped models once and builds cluster → classify → route per call', () => {
    const loads = jest.spyOn(labelModel, 'loadModel');
    try {
      const shipped = defaultStages(validateConfig({}));
      expect(loads).not.toHaveBeenCalled();
      shipped.load();
      const a = shipped.stages();
      const b = shipped.stages();
      expect(loads).toHaveBeenCalledTimes(1); // one model shared by all partitions
      expect(a.map((s) => s.name)).toEqual(['cluster', 'classify', 'route']);
      expect(a[0]).not.toBe(b[0]); // each partition its own clustering state
    } finally {
      loads.mockRestore();
    }
  });
});
