import { test } from 'tap'
import { isoUtc, mapListItem } from '../src/upstream/aitoearn/map.js'

test('isoUtc: canonical UTC strings pass as they are; everything else goes through Date', async t => {
  t.equal(isoUtc('2026-03-04T05:06:07.089Z'), '2026-03-04T05:06:07.089Z')
  t.equal(isoUtc('2026-03-04T05:06:07Z'), '2026-03-04T05:06:07.000Z', 'no milliseconds')
  t.equal(isoUtc('2026-03-04T13:06:07+08:00'), '2026-03-04T05:06:07.000Z', 'an offset becomes UTC')
  // Days past the 28th and hour 24 roll over in Date.parse: they are normalized as before.
  t.equal(isoUtc('2026-02-30T00:00:00.000Z'), '2026-03-02T00:00:00.000Z')
  t.equal(isoUtc('2024-02-29T10:00:00.000Z'), '2024-02-29T10:00:00.000Z')
  t.equal(isoUtc('2026-01-31T24:00:00.000Z'), '2026-02-01T00:00:00.000Z')
  t.equal(isoUtc('2026-13-01T00:00:00.000Z'), undefined, 'not a date')
  t.equal(isoUtc('yesterday'), undefined)
  t.equal(isoUtc(''), undefined)
  t.equal(isoUtc(null), undefined)
})

test('a listed work: absent fields are absent (not undefined), every metric is present', async t => {
  const work = mapListItem({
    platformWorkId: 'w1',
    title: 'A title',
    description: '',
    publishedAt: '2026-03-04T05:06:07.089Z',
    authorName: 'someone',
    metrics: { viewCount: 5, customCount: 2 }
  } as Parameters<typeof mapListItem>[0], 'tiktok', 'acc-1')
  t.same(Object.keys(work).sort(), ['accountId', 'author', 'extra', 'metrics', 'platform', 'publishedAt', 'source', 'title', 'workId'])
  t.same(work.author, { name: 'someone' })
  t.equal(work.metrics.viewCount, 5)
  t.equal(work.metrics.likeCount, null)
  t.same(work.extra, { customCount: 2 })
})
