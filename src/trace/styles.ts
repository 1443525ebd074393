/** The trace styles, apart from their formatters, so that the command line names them without loading those. */
export type TraceStyle = 'kernel' | 'masq' | 'json';
export const TRACE_STYLES: readonly TraceStyle[] = ['kernel', 'masq', 'json'];
