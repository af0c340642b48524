/** With -A, the most namespaces listed one by one for a kind refused across all namespaces (--max-namespaces). */
export const DEFAULT_MAX_NAMESPACES = 100;
