// The load generators' latency recording; its rules live in schema/ so the harness merges agents'
// histograms with the very same buckets.
export * from '../schema/histogram.js';
