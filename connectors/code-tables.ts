import type { EmittedCodeTable } from '../core/catalog/types';
import { AFFAIR_CLASSES, AFFAIR_ITEMS } from './grid-worker/affairs';
import { MESSAGE_BOARD_DOMAINS } from './message-board/domains';
import { POLICE_110_CODES } from './police-110/codes';
import { RESIDENT_APP_CATEGORIES } from './resident-app/categories';

/**
 * The channel code tables the shipped connectors own and emit on `channelCategory`. Each is
 * defined once, in its connector; the catalog maps every code (`core/catalog/channel-maps.ts`),
 * `intake-hub catalog build` writes them into the default catalog and fails on an unmapped one, and
 * `intake-hub catalog lint` reports codes a connector emits that a catalog does not map.
 *
 * Not listed here, because another table owns them: `gbt47678.5` (city-management: the GB/T 47678.5
 * directory, read by the build), `hotline-12345` (the city's 12345 subcategory list, read by the
 * build), `open311` (service codes are the catalog's own subcategory codes). The mapped-webhook
 * connector writes whatever scheme its YAML names.
 */
export const EMITTED_CODE_TABLES: readonly EmittedCodeTable[] = [
  {
    scheme: 'police-110',
    connector: 'police-110',
    name: '110 警情类别 (JQLB): families 01–05 police matters, 11–19 non-police hand-overs (project list)',
    codes: POLICE_110_CODES.map(({ code, name }) => ({ code, name })),
    fallbackPrefixLengths: [2],
  },
  {
    scheme: 'grid-affairs',
    connector: 'grid-worker',
    name: '网格事务 4类25项 (project list: A 矛盾纠纷, B 安全隐患, C 民生服务, D 城市管理)',
    codes: [...Object.entries(AFFAIR_CLASSES).map(([code, name]) => ({ code, name })), ...[...AFFAIR_ITEMS.values()].map(({ code, name }) => ({ code, name }))],
    fallbackPrefixLengths: [1],
  },
  {
    scheme: 'message-board-domain',
    connector: 'message-board',
    name: '领导留言板 领域 (message-board domains, project list)',
    codes: MESSAGE_BOARD_DOMAINS.map((d) => ({ code: d.code, name: d.name, ...(d.aliases ? { aliases: [...d.aliases] } : {}) })),
  },
  {
    scheme: 'resident-app',
    connector: 'resident-app',
    name: '随手拍 categories picked in the resident app (project list; the code is the name)',
    codes: RESIDENT_APP_CATEGORIES.map((d) => ({ code: d.code, name: d.name, ...(d.aliases ? { aliases: [...d.aliases] } : {}) })),
  },
];
