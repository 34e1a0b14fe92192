import type { Clock } from './clock';
import { systemClock } from './clock';
import type { HubConfig } from './config/config';
import { CatalogStore } from './catalog/catalog';
import { ClassifyStage, type ClassificationConfig } from './catalog/classify';
import { loadCategoryModel, type CategoryModel } from './catalog/category-model';
import { loadModel, type TextModel } from './catalog/model';
import type { Stage } from './pipeline/stage';
import type { ClusterConfigInput } from './cluster/config';
import { ClusterStage } from './cluster/stage';
import { RouteStage, type RoutingConfig } from './routing/router';

export interface ShippedStages {
  /** Builds the stages for one processor partition (each partition has its own clustering state); loads the models on first use. */
  stages: () => Stage[];
  catalog: CatalogStore;
  /** How far back the stateful stages restore (the cluster stage's horizon), known without loading the models. */
  restoreHorizonMs: number;
  /**
   * Loads the label and category models now (once). A processor (`--role processor|all`) calls it
   * at start-up so that a bad model file fails there; an intake never needs them (it does not
   * classify) and starts without: about 0.6 s and 150 MB less.
   */
  load: () => void;
}

/**
 * The stages after exact dedup, in order: cluster → classify → route (one set per processor partition; the catalog and the model are shared), each owned by its module
 * (core/cluster, core/catalog, core/routing), configured from hub.yaml (`catalog.classification`,
 * `catalog.routing`, `clustering`). The catalog store is returned too, for the admin API's
 * hot reload. The catalog is read at once; the model files when `load()` or `stages()` is first called.
 */
export function defaultStages(config: HubConfig, clock: Clock = systemClock): ShippedStages {
  const cls = (config.catalog.classification ?? {}) as Partial<ClassificationConfig> & { catalogFile?: string | null; modelFile?: string | null; categoryModelFile?: string | null };
  const routing = (config.catalog.routing ?? {}) as Partial<RoutingConfig>;
  const catalog = cls.catalogFile ? new CatalogStore(cls.catalogFile) : new CatalogStore();
  let models: { model: TextModel; categoryModel: CategoryModel } | null = null;
  const load = (): { model: TextModel; categoryModel: CategoryModel } =>
    (models ??= {
      model: loadModel(...(cls.modelFile ? [cls.modelFile] : [])),
      categoryModel: loadCategoryModel(...(cls.categoryModelFile ? [cls.categoryModelFile] : [])),
    });
  return {
    catalog,
    restoreHorizonMs: new ClusterStage(config.clustering as ClusterConfigInput).restoreHorizonMs,
    load: () => void load(),
    stages: () => {
      const m = load();
      return [new ClusterStage(config.clustering as ClusterConfigInput), new ClassifyStage(catalog, m.model, cls, m.categoryModel), new RouteStage(catalog, routing, clock)];
    },
  };
}
