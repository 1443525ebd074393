/**
 * Text made by concatenation is, in V8, a tree of its pieces (a ConsString) until something
 * reads it as a whole; writing the trace's output walks every piece of every line again. A
 * text kept and printed on many lines (an op's NF-CORE text, a flow's addresses and ports) is
 * made flat once, when it is made: each line then copies it in one piece (a walk of its tree was
 * 6–8× the copy, issue 22). Not for a text of one packet's lines (its timestamp, skb address):
 * the flattening is a call into the runtime, which cost more CPU time than the walks it saved.
 */
export function flatText(text: string): string {
  // reading a character of a ConsString flattens it in place (String::Flatten); unlike indexOf,
  // whose unused result the optimizing compiler drops with the call, a charCodeAt is kept
  text.charCodeAt(0);
  return text;
}
