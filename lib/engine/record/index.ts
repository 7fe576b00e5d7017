// Recording engine traffic: the dispatcher and what its callers need beside it.
export { RecordingDispatcher, type RecordingOptions } from './dispatcher.js';
export { RECORDING_FILE } from '../recording-format.js';
export { secretsOfAuthConfig } from '../redaction.js';
