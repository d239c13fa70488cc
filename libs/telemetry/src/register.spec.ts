import { redactUrl } from './register';

describe('redactUrl', () => {
  it('hides Password Safe request ids, which are bearer capabilities, in paths and full URLs', () => {
    expect(redactUrl('/BeyondTrust/api/public/v3/Credentials/124?type=password')).toBe('/BeyondTrust/api/public/v3/Credentials/{id}?type=password');
    expect(redactUrl('https://ps.example/BeyondTrust/api/public/v3/Requests/9/Checkin')).toBe('https://ps.example/BeyondTrust/api/public/v3/Requests/{id}/Checkin');
    expect(redactUrl('/v3/Requests/Release/77')).toBe('/v3/Requests/Release/{id}');
    expect(redactUrl('/v3/ManagedSystems')).toBe('/v3/ManagedSystems');
  });
});
