// IP arithmetic moved to src/match/ip.ts (shared with src/authz); kept here so trace modules' imports stay stable.
export * from '../match/ip.js';
