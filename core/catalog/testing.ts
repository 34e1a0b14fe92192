import type { CanonicalTicket } from '../schema/types.generated';
import type { Catalog } from './catalog';
import { CategoryModel, catalogDocuments, compatMatrix, teacherModel, trainTeacher } from './category-model';
import { train, TextModel, type TrainOptions } from './model';

/** A valid canonical ticket for tests, untouched by classify/route; override any field. */
export function testTicket(over: Partial<CanonicalTicket> = {}): CanonicalTicket {
  return {
    schemaVersion: 'ticket/v1',
    id: '01JH0000000000000000000000',
    source: {
      channel: 'hotline-12345',
      connectorId: 'test',
      sourceId: 'S1',
      receivedAt: '2026-01-05T01:00:00.000Z',
      occurredAt: null,
      rawRef: { topic: 'tickets.raw.v1', envelopeId: '01JH0000000000000000000001', sha256: '0'.repeat(64) },
    },
    reporter: { nameMasked: null, phoneMasked: null, contactToken: null, anonymous: true, role: 'resident' },
    title: null,
    text: '测试',
    appealType: 'complaint',
    location: { address: null, point: null, district: null, street: null, community: null, grid: null },
    channelCategory: null,
    classification: { catalogVersion: null, category: null, subcategory: null, confidence: 0, method: 'none', alternatives: [] },
    routing: { status: 'unrouted', department: null, coHandlers: [], jurisdiction: null, territorial: null, rule: null, reason: null, dueAt: null, priority: null },
    urgency: 'normal',
    attachments: [],
    dedup: { key: 'hotline-12345:S1', duplicateOf: null, repeatOf: null, repeatCount: 0 },
    cluster: { id: null, role: 'none', score: null },
    channelFields: {},
    trace: { pipelineVersion: '1.0.0', mappingVersion: null, catalogVersion: null, stages: [], processedAt: '2026-01-05T01:00:00.000Z' },
    ...over,
  };
}

/** A toy corpus: three labels with distinct vocabularies. */
export function toyRows(): Array<{ text: string; label: string }> {
  const rows: Array<{ text: string; label: string }> = [];
  const vocab: Record<string, string[]> = {
    城乡建设: ['小区物业不作为', '拆迁安置补偿', '违章建筑影响采光', '路灯不亮井盖丢失'],
    教育文体: ['学校乱收费', '幼儿园入学难', '教师补课收费', '学生课业负担重'],
    卫生计生: ['医院乱收费', '医生态度差', '疫苗接种预约', '食品安全问题'],
  };
  for (const [label, phrases] of Object.entries(vocab)) {
    for (let i = 0; i < 30; i++) rows.push({ text: `市民反映：${phrases[i % 4]}，${phrases[(i + 1) % 4]}，请尽快处理。编号${i}`, label });
  }
  return rows;
}
export const TOY_OPTIONS: TrainOptions = { bits: 14, ngramMin: 1, ngramMax: 3, minDf: 1, epochs: 8, lambda: 1e-5, lr: 0.5, seed: 1 };

export function toyModel(): TextModel {
  const m = train(toyRows(), TOY_OPTIONS);
  return TextModel.fromTrained(m.labels, 'toy-1', TOY_OPTIONS, m.w, m.idf, m.bias);
}


/**
 * A small category model for tests: the teacher trained on the catalog's own documents only (names
 * + keywords), mixed with `labelModel` through the catalog's projection (no annotated rows).
 */
export function toyCategoryModel(catalog: Catalog, labelModel: TextModel): CategoryModel {
  const categories = catalog.categories.map((c) => c.code);
  const o: TrainOptions = { ...TOY_OPTIONS, solver: 'cd', C: 1, epochs: 30, loss: 'hinge', classWeight: 'balanced' };
  const t = trainTeacher(catalogDocuments(catalog), categories, o);
  return new CategoryModel(teacherModel(categories, 'toy-cat-teacher', o, t), {
    version: 'toy-cat-1',
    categories,
    l1Labels: [...labelModel.labels],
    l1Model: labelModel.version,
    compat: compatMatrix([], labelModel.labels, categories, catalog, 1),
    teacherT: 0.1,
    temperature: 1,
  });
}
