"""Settings: the model, the YAML config file and its profiles, precedence (flags > environment >
profile > defaults), host parsing, and README's reference tables rendered from them."""
