// Replaying recorded Engine API traffic with no daemon: `skiff/replay`.
export { ReplayDispatcher, type ReplayOptions } from './dispatcher.js';
export type { MatchRules } from './rules.js';
