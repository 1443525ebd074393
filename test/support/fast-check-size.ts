/**
 * fast-check's default size keeps generated arrays near 10 elements whatever maxLength says (a
 * mean of 4.5 for `maxLength: 60`), so a property over "up to 60 routes" never met a table past
 * 16 and missed a broken index. 'medium' lets them reach their maxLength (a mean of 26 there):
 * every property test meets larger inputs, for about 10% more suite time.
 */
import fc from 'fast-check';

fc.configureGlobal({ baseSize: 'medium' });
