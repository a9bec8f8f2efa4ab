// The docker:// transport registers itself here (setRegistryTransport) when the registry client lands.
export {};
