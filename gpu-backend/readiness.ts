// Whether the server should be sent traffic: not before every model has been loaded (or found
// unavailable) and warmed up, and not after SIGTERM, while it drains.

export class Readiness {
  #modelsLoaded = false;
  #draining = false;

  get ready(): boolean {
    return this.#modelsLoaded && !this.#draining;
  }

  get draining(): boolean {
    return this.#draining;
  }

  modelsLoaded(): void {
    this.#modelsLoaded = true;
  }

  startDraining(): void {
    this.#draining = true;
  }
}
