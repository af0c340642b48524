// URI templates moved to src/match (shared with src/authz); kept here so trace modules' imports stay stable.
export * from '../match/uri-template.js';
