// Placeholder: being written (chains of elementwise ops, rebuilt and replayed).
int main() { return 0; }
