// Recording engine traffic and replaying it with no daemon: `skiff/replay`.
export { ReplayDispatcher, type ReplayOptions } from './dispatcher.js';
export type { MatchRules } from './rules.js';
export { RecordingDispatcher, RECORDING_FILE, type RecordingOptions } from '../record/index.js';
export { secretsOfAuthConfig } from '../redaction.js';
