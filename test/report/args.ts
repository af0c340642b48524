import { fixture } from '../helpers.js';

const BOOKINFO = fixture('bookinfo', 'productpage-config_dump.json');

/** A report from the bookinfo fixtures, as the docs and the browser tests use it. */
export function bookinfoArgs(out: string): string[] {
  return [
    'report',
    '-f', BOOKINFO,
    '-f', fixture('live', 'istiod-a-syncz.json'),
    '--files', fixture('describe', 'bookinfo'),
    '--trace', 'http://reviews:9080/api/v1',
    '-H', 'end-user: jason',
    '-o', out,
  ];
}
