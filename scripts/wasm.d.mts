/** The bytes of src/packet/ones-sum.wat assembled (scripts/wasm.mjs). */
export function assembleOnesSum(): Promise<Uint8Array>;
