import type { Clock } from './clock';
import { systemClock } from './clock';
import type { HubConfig } from './config/config';
import { CatalogStore } from './catalog/catalog';
import { ClassifyStage, type ClassificationConfig } from './catalog/classify';
import { loadCategoryModel } from './catalog/category-model';
import { loadModel } from './catalog/model';
import type { Stage } from './pipeline/stage';
import type { ClusterConfigInput } from './cluster/config';
import { ClusterStage } from './cluster/stage';
import { RouteStage, type RoutingConfig } from './routing/router';

export interface ShippedStages {
  /** Builds the stages for one processor partition (each partition has its own clustering state). */
  stages: () => Stage[];
  catalog: CatalogStore;
}

/**
 * The stages after exact dedup, in order: cluster → classify → route (one set per processor partition; the catalog and the model are shared), each owned by its module
 * (core/cluster, core/catalog, core/routing), configured from hub.yaml (`catalog.classification`,
 * `catalog.routing`, `clustering`). The catalog store is returned too, for the admin API's
 * hot reload.
 */
export function defaultStages(config: HubConfig, clock: Clock = systemClock): ShippedStages {
  const cls = (config.catalog.classification ?? {}) as Partial<ClassificationConfig> & { catalogFile?: string | null; modelFile?: string | null; categoryModelFile?: string | null };
  const routing = (config.catalog.routing ?? {}) as Partial<RoutingConfig>;
  const catalog = cls.catalogFile ? new CatalogStore(cls.catalogFile) : new CatalogStore();
  const model = loadModel(...(cls.modelFile ? [cls.modelFile] : []));
  const categoryModel = loadCategoryModel(...(cls.categoryModelFile ? [cls.categoryModelFile] : []));
  return {
    catalog,
    stages: () => [new ClusterStage(config.clustering as ClusterConfigInput), new ClassifyStage(catalog, model, cls, categoryModel), new RouteStage(catalog, routing, clock)],
  };
}
