// What a vault type's settings are written with (defineVaultType, the URL and CA bundle fields, masking): pure zod,
// so the contracts can derive the vault type enum and the settings union from the adapters' settings.
export * from './define';
