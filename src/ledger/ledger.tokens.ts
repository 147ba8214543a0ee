/** Injection tokens of the ledger's ports (plain values, so `src/ledger/` stays free of Nest). */
export const EVENT_STORE = 'ida-ledger:EventStore';
export const EMBEDDED_LEDGER = 'ida-ledger:EmbeddedLedger';
