export { SearchIndex } from './search-index.js';
export { foldCase } from './fold.js';
export type * from './types.js';
