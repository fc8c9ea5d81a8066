import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from './config.js';

describe('console settings (SPEC §9.1)', () => {
  it('HANDINGER_PORTAL_FRAME_ANCESTORS: space-separated origins, none by default', () => {
    expect(resolveConfig({}, {}).portalFrameAncestors).toEqual([]);
    expect(resolveConfig({}, { HANDINGER_PORTAL_FRAME_ANCESTORS: ' https://app.example.com  http://localhost:5173 ' }).portalFrameAncestors).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(resolveConfig({}, { HANDINGER_PORTAL_FRAME_ANCESTORS: 'https://*.example.com' }).portalFrameAncestors).toEqual(['https://*.example.com']);
  });

  it.each(['*', 'https://a*b.example.com', 'https://*', 'https://app.example.com/', 'https://app.example.com/path', "'self'", 'app.example.com', 'https://a.example;script-src *', 'ftp://a.example'])(
    'refuses %s, which is not a bare origin',
    (value) => {
      expect(() => resolveConfig({}, { HANDINGER_PORTAL_FRAME_ANCESTORS: value })).toThrow(ConfigError);
    },
  );

  it('HANDINGER_PUBLIC_URL: an http(s) URL, trailing slashes dropped', () => {
    expect(resolveConfig({}, {}).publicUrl).toBeUndefined();
    expect(resolveConfig({}, { HANDINGER_PUBLIC_URL: 'https://hooks.example.com/' }).publicUrl).toBe('https://hooks.example.com');
    expect(() => resolveConfig({}, { HANDINGER_PUBLIC_URL: 'hooks.example.com' })).toThrow(ConfigError);
    expect(() => resolveConfig({}, { HANDINGER_PUBLIC_URL: 'https://u:p@hooks.example.com' })).toThrow(ConfigError);
  });
});
