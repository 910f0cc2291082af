export function Brand() {
  return (
    <p class="brand" aria-hidden="true">
      Keeper
    </p>
  );
}
