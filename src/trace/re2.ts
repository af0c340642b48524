// RE2 moved to src/match (shared with src/authz); kept here so trace modules' imports stay stable.
export * from '../match/re2.js';
