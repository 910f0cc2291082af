/** The formats `keeper export` writes (kept apart so listing them loads nothing else). */
export const EXPORT_FORMATS = ['json', 'csv', 'encrypted'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
