/** String patterns shared by route schemas (JSON Schema `pattern`, so strings, not RegExps). */

/** A calendar-shaped date, YYYY-MM-DD (whether it is a real date is checked by the route). */
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$'

/** No control characters: nothing that could split a header, a log line or an upstream path. */
export const NO_CONTROL_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$'
