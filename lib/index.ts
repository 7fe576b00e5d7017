// The package's front door, `skiff`: the Engine API client, recording and replaying its
// traffic, and running a DAG file. Importing it loads the client only: the DAG layer is loaded
// when runDagFile is first called, and the CLI never.
export * from './engine/index.js';
export * from './engine/replay/index.js';
